/**
 * HOTP/TOTP against every RFC vector (RFC 4226 Appendix D, RFC 6238 Appendix B, including T > 2^32),
 * the ±1 step window, and properties over random secrets and times (fast-check).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { hotpCode, matchingStep, type OtpAlgorithm, timeStepOf, totpCode } from "./totp.ts";

interface Vector {
  readonly type: "hotp" | "totp";
  readonly algorithm: OtpAlgorithm;
  readonly secret_hex: string;
  readonly counter: number;
  readonly time: number | null;
  readonly step: number | null;
  readonly digits: number;
  readonly expected: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/otp/rfc-vectors.json", import.meta.url), "utf8"),
) as Vector[];

describe("RFC 4226 / RFC 6238 vectors", () => {
  it("has all 28 vectors", () => {
    assert.equal(vectors.filter((v) => v.type === "hotp").length, 10);
    assert.equal(vectors.filter((v) => v.type === "totp").length, 18);
  });
  for (const v of vectors) {
    const secret = new Uint8Array(Buffer.from(v.secret_hex, "hex"));
    if (v.type === "hotp")
      it(`HOTP ${v.algorithm} counter ${v.counter} = ${v.expected}`, () => {
        assert.equal(hotpCode(secret, v.algorithm, v.digits, v.counter), v.expected);
      });
    else
      it(`TOTP ${v.algorithm} T=${v.time} = ${v.expected}`, () => {
        const p = { algorithm: v.algorithm, digits: v.digits, period: v.step ?? 30 };
        const ms = (v.time as number) * 1000;
        assert.equal(totpCode(secret, p, ms), v.expected);
        assert.equal(timeStepOf(ms, p.period), v.counter);
        assert.equal(matchingStep(secret, p, v.expected, ms), v.counter);
        // The 6-digit code is the last six digits of the 8-digit value (RFC 4226 §5.3).
        assert.equal(totpCode(secret, { ...p, digits: 6 }, ms), v.expected.slice(2));
      });
  }
});

describe("the ±1 step window", () => {
  const secret = new Uint8Array(20).fill(7);
  const p = { algorithm: "SHA1" as const, digits: 6, period: 30 };
  it("matches the previous, current and next step, nothing further", () => {
    const now = 1_900_000_000_000;
    const step = timeStepOf(now, 30);
    for (const d of [-1, 0, 1])
      assert.equal(matchingStep(secret, p, totpCode(secret, p, now + d * 30_000), now), step + d);
    for (const d of [-3, -2, 2, 3]) {
      const code = totpCode(secret, p, now + d * 30_000);
      const m = matchingStep(secret, p, code, now);
      // A code of another step may collide with one in the window (p ≈ 3e-6): then it is that step.
      if (m !== undefined) assert.equal(totpCode(secret, p, m * 30_000), code);
    }
  });
  it("refuses codes of the wrong length or with non-digits", () => {
    const now = 1_900_000_000_000;
    const code = totpCode(secret, p, now);
    for (const bad of [
      "",
      code.slice(1),
      `${code}0`,
      ` ${code.slice(1)}`,
      `${code.slice(0, 5)}a`,
      "１２３４５６",
    ])
      assert.equal(matchingStep(secret, p, bad, now), undefined);
  });
  it("property: the code of any time is accepted at that time as its own step", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.constantFrom<OtpAlgorithm>("SHA1", "SHA256", "SHA512"),
        fc.constantFrom(6, 8),
        (s, seconds, algorithm, digits) => {
          const q = { algorithm, digits, period: 30 };
          const code = totpCode(s, q, seconds * 1000);
          assert.equal(code.length, digits);
          assert.equal(matchingStep(s, q, code, seconds * 1000), Math.floor(seconds / 30));
        },
      ),
      { numRuns: 200 },
    );
  });
  it("property: any string either matches a step within ±1 or is refused, never throws", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (code) => {
        const m = matchingStep(secret, p, code, 1_900_000_000_000);
        if (m !== undefined) assert.ok(Math.abs(m - timeStepOf(1_900_000_000_000, 30)) <= 1);
      }),
      { numRuns: 500 },
    );
  });
});
