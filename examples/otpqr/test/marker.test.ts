/**
 * otpqr's single-run marker: created O_EXCL (0600) and authenticated by a key sealed to otpqr's
 * identity; any edited field, a key sealed by another enclave, garbage or an oversized file is
 * ERR_OTP_MARKER_TAMPERED (fast-check: mutated markers never authenticate and never throw
 * anything else); a second create is refused with nothing overwritten.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { initSimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";
import * as fc from "fast-check";
import { createMarker, markerPath, readMarker } from "../lib/marker.ts";

const dir = mkdtempSync(join(tmpdir(), "otpqr-marker-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
const as = (m: number) =>
  simulatedPlatformAttester(platform, {
    mrEnclave: new Uint8Array(32).fill(m),
    mrSigner: new Uint8Array(32).fill(0x55),
    isvProdId: 2,
    isvSvn: 1,
  });
const otpqr = as(0x0a);
const body = { account: "ci-signer", server: "127.0.0.1:7443", createdAt: "2030-01-01T00:00:00.000Z" };

describe("otpqr single-run marker", () => {
  const path = markerPath(join(dir, "state"));

  it("is created 0600 with O_EXCL and reads back under the same identity", async () => {
    await createMarker(otpqr, path, body);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await readMarker(otpqr, path), body);
    const before = readFileSync(path);
    await assert.rejects(
      createMarker(otpqr, path, { ...body, account: "other" }),
      (e: { code?: string; detail?: { reason?: string } }) =>
        e.code === "ERR_IO" && e.detail?.reason === "EEXIST",
    );
    assert.deepEqual(readFileSync(path), before, "nothing overwritten");
  });

  it("detects an edited field, a key of another enclave, garbage and an oversized file", async () => {
    const good = JSON.parse(readFileSync(path, "utf8"));
    const other = markerPath(join(dir, "other"));
    await createMarker(as(0x0b), other, body);
    const foreign = JSON.parse(readFileSync(other, "utf8"));
    const variants = [
      { ...good, account: "release-signer" },
      { ...good, createdAt: "2031-01-01T00:00:00.000Z" },
      { ...good, server: "evil:1" },
      { ...good, mac: good.mac.replace(/^./, (c: string) => (c === "0" ? "1" : "0")) },
      { ...good, key: foreign.key },
      { ...foreign },
      { ...good, v: 2 },
      { ...good, mac: 42 },
    ];
    const probe = join(dir, "probe");
    for (const v of variants) {
      writeFileSync(probe, JSON.stringify(v));
      await assert.rejects(
        readMarker(otpqr, probe),
        { code: "ERR_OTP_MARKER_TAMPERED" },
        JSON.stringify(v).slice(0, 60),
      );
    }
    for (const raw of ["", "not json", "x".repeat(5000)]) {
      writeFileSync(probe, raw);
      await assert.rejects(readMarker(otpqr, probe), { code: "ERR_OTP_MARKER_TAMPERED" });
    }
  });

  it("property: a marker with any byte changed never authenticates, and fails only with ERR_OTP_MARKER_TAMPERED", async () => {
    const good = readFileSync(path);
    const probe = join(dir, "mutated");
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: good.length - 2 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const bytes = Buffer.from(good);
          bytes[at] = (bytes[at] as number) ^ xor;
          writeFileSync(probe, bytes);
          try {
            const read = await readMarker(otpqr, probe);
            // A change JSON does not see (e.g. an escaped character's case in the key's base64 padding).
            assert.deepEqual(read, body);
          } catch (e) {
            assert.equal((e as { code?: string }).code, "ERR_OTP_MARKER_TAMPERED");
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
