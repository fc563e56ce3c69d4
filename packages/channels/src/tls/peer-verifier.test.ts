import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import { createPeerVerifier } from "./peer-verifier.ts";

const verdict = (until: string): RaTlsVerdict =>
  ({
    validUntil: new Date(until),
    certificate: { notBefore: new Date("2026-01-01T00:00:00Z") },
  }) as unknown as RaTlsVerdict;

describe("peer verifier cache", () => {
  it("keeps a verdict until it expires, then verifies again; bounds its size", async () => {
    let now = new Date("2026-06-01T00:00:00Z");
    let calls = 0;
    const v = createPeerVerifier({
      now: () => now,
      maxEntries: 2,
      verify: () => {
        calls++;
        return verdict("2026-06-02T00:00:00Z");
      },
    });
    const a = Uint8Array.of(1);
    await v.verify(a);
    await v.verify(a);
    assert.equal(calls, 1);
    now = new Date("2026-06-03T00:00:00Z"); // the collateral (or certificate) expired
    await v.verify(a);
    assert.equal(calls, 2);
    await v.verify(Uint8Array.of(2));
    await v.verify(Uint8Array.of(3));
    assert.equal(v.size, 2);
  });

  it("shares one verification among concurrent callers, and caches no failure", async () => {
    let calls = 0;
    const v = createPeerVerifier({
      verify: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 10));
        throw Object.assign(new Error("refused"), { code: "ERR_RATLS_POLICY_REJECTED" });
      },
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => v.verify(Uint8Array.of(9))));
    assert.ok(results.every((r) => r.status === "rejected"));
    assert.equal(calls, 1);
    await assert.rejects(v.verify(Uint8Array.of(9)));
    assert.equal(calls, 2);
    assert.equal(v.size, 0);
  });
});
