/**
 * Properties of the TPM parsers: structures generated field by field parse back to their fields;
 * every strict prefix and every trailing byte is refused; mutations of real structures either
 * fail with a KeywardError or parse into something consistent with their bytes.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { concatBytes } from "../../bytes/equal.ts";
import { digest } from "../../crypto/digest.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { parseTpmQuoteAttest } from "./attest.ts";
import { TPM_HASHES } from "./constants.ts";
import { parseTpm2bPublic } from "./public-area.ts";
import { parseTpmtSignature } from "./signature.ts";

const DIR = fileURLToPath(new URL("../../../test/vectors/tpm/", import.meta.url));
const file = (v: string, f: string) => new Uint8Array(readFileSync(join(DIR, v, f)));

const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
const u64 = (n: bigint) => concatBytes(u32(Number(n >> 32n)), u32(Number(n & 0xffffffffn)));
const b2 = (b: Uint8Array) => concatBytes(u16(b.byteLength), b);
const bytes = (max: number) => fc.uint8Array({ maxLength: max });

const attestArb = fc.record({
  qualifiedSigner: bytes(66),
  extraData: bytes(66),
  clock: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  resetCount: fc.nat({ max: 0xffffffff }),
  restartCount: fc.nat({ max: 0xffffffff }),
  safe: fc.boolean(),
  firmwareVersion: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  banks: fc.array(
    fc.record({
      hash: fc.constantFrom(0x04, 0x0b, 0x0c),
      bitmap: fc.uint8Array({ minLength: 3, maxLength: 3 }),
    }),
    {
      maxLength: 4,
    },
  ),
  pcrDigest: bytes(66),
});

type Attest = typeof attestArb extends fc.Arbitrary<infer T> ? T : never;

function marshalAttest(a: Attest): Uint8Array {
  return concatBytes(
    u32(0xff544347),
    u16(0x8018),
    b2(a.qualifiedSigner),
    b2(a.extraData),
    u64(a.clock),
    u32(a.resetCount),
    u32(a.restartCount),
    Uint8Array.of(a.safe ? 1 : 0),
    u64(a.firmwareVersion),
    u32(a.banks.length),
    ...a.banks.map((b) => concatBytes(u16(b.hash), Uint8Array.of(3), b.bitmap)),
    b2(a.pcrDigest),
  );
}

const sigArb = fc.oneof(
  fc.record({ alg: fc.constant(0x18), hash: fc.constantFrom(0x0b, 0x0c, 0x0d), r: bytes(66), s: bytes(66) }),
  fc.record({ alg: fc.constantFrom(0x14, 0x16), hash: fc.constantFrom(0x0b, 0x0c), sig: bytes(512) }),
);

function refusesPrefixesAndTrailing(b: Uint8Array, parse: (b: Uint8Array) => unknown): void {
  for (let n = 0; n < b.byteLength; n++) assert.throws(() => parse(b.subarray(0, n)), KeywardError);
  assert.throws(() => parse(concatBytes(b, Uint8Array.of(0))), KeywardError);
}

describe("TPM parsers: generated structures and mutations", () => {
  it("TPMS_ATTEST: generated quotes parse back to their fields; prefixes and trailing bytes are refused", () => {
    fc.assert(
      fc.property(attestArb, (a) => {
        const bytes = marshalAttest(a);
        const p = parseTpmQuoteAttest(bytes);
        assert.deepEqual(p.qualifiedSigner, a.qualifiedSigner);
        assert.deepEqual(p.extraData, a.extraData);
        assert.equal(p.clock, a.clock);
        assert.equal(p.resetCount, a.resetCount);
        assert.equal(p.restartCount, a.restartCount);
        assert.equal(p.safe, a.safe);
        assert.equal(p.firmwareVersion, a.firmwareVersion);
        assert.deepEqual(p.pcrDigest, a.pcrDigest);
        assert.deepEqual(
          p.pcrSelection.map((s) => s.hash),
          a.banks.map((b) => b.hash),
        );
        a.banks.forEach((b, i) => {
          for (let pcr = 0; pcr < 24; pcr++) {
            const set = ((b.bitmap[pcr >> 3] ?? 0) & (1 << (pcr & 7))) !== 0;
            assert.equal(p.pcrSelection[i]?.pcrs.includes(pcr), set);
          }
        });
        refusesPrefixesAndTrailing(bytes, parseTpmQuoteAttest);
      }),
      { numRuns: 200 },
    );
  });

  it("TPMS_ATTEST: another magic or type is refused by name", () => {
    const q = file("ecc-p256-pcr23", "quote.msg");
    for (const [at, check] of [
      [0, "magic"],
      [5, "type"],
    ] as const) {
      const bad = q.slice();
      bad[at] = (bad[at] ?? 0) ^ 1;
      assert.throws(
        () => parseTpmQuoteAttest(bad),
        (e: unknown) => {
          return (
            e instanceof KeywardError && e.code === "ERR_TPM_ATTEST_INVALID" && e.detail?.check === check
          );
        },
      );
    }
  });

  it("TPMT_SIGNATURE: generated signatures parse back; prefixes and trailing bytes are refused", () => {
    fc.assert(
      fc.property(sigArb, (s) => {
        const bytes =
          "r" in s
            ? concatBytes(u16(s.alg), u16(s.hash), b2(s.r), b2(s.s))
            : concatBytes(u16(s.alg), u16(s.hash), b2(s.sig));
        const p = parseTpmtSignature(bytes);
        const plain = (o: object) =>
          Object.fromEntries(
            Object.entries(o).map(([k, v]) => [k, v instanceof Uint8Array ? Array.from(v) : v]),
          );
        assert.deepEqual(plain(p), plain(s));
        refusesPrefixesAndTrailing(bytes, parseTpmtSignature);
      }),
      { numRuns: 200 },
    );
  });

  it("TPM2B_PUBLIC: a mutated public area fails with a KeywardError, or parses with a Name over its exact bytes", () => {
    for (const v of ["ecc-p256-pcr23", "rsa2048-pcr23"]) {
      const pub = file(v, "ak.pub");
      fc.assert(
        fc.property(fc.nat(pub.byteLength - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
          const bad = pub.slice();
          bad[at] = value;
          let p: ReturnType<typeof parseTpm2bPublic>;
          try {
            p = parseTpm2bPublic(bad);
          } catch (e) {
            assert.ok(e instanceof KeywardError, String(e));
            return;
          }
          const hash = TPM_HASHES[p.nameAlg];
          assert.ok(hash !== undefined);
          assert.deepEqual(p.tpmt, bad.subarray(2));
          assert.deepEqual(p.name, concatBytes(u16(p.nameAlg), digest(hash.name, bad.subarray(2))));
          // A change of any byte changes the Name (unless the byte did not change).
          if (value !== pub[at]) assert.notDeepEqual(p.name, parseTpm2bPublic(pub).name);
        }),
        { numRuns: 1000 },
      );
    }
  });

  it("TPMT_SIGNATURE: an unknown algorithm is refused", () => {
    assert.throws(() => parseTpmtSignature(Uint8Array.of(0, 0x99, 0, 0x0b, 0, 0)), {
      code: "ERR_TPM_SIGNATURE_MALFORMED",
    });
  });
});
