/**
 * Open Enclave custom claims: the serialized layout byte for byte (custom_claims.c: u64le version,
 * u64le count, then u64le name size with its NUL, u64le value size, name, NUL, value), strict
 * parsing, and the exact binding of a key by an OE-format bundle.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { toHex } from "../bytes/hex.ts";
import { sha256 } from "../crypto/digest.ts";
import { isKeywardError } from "../errors/keyward-error.ts";
import type { VerifiedQuote } from "../evidence/claims.ts";
import type { KeyBundle } from "./bundle.ts";
import {
  OE_KEY_CLAIMS,
  oeCustomClaimsReportData,
  parseOeCustomClaims,
  serializeOeCustomClaims,
} from "./oe-claims.ts";
import { verifyKeyBundle } from "./verify-bundle.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("Open Enclave custom claims", () => {
  it("serializes as oe_serialize_custom_claims does", () => {
    const buf = serializeOeCustomClaims([{ name: "Event", value: enc("hi") }]);
    assert.equal(
      toHex(buf),
      // version 1, one claim; name size 6 ("Event\0"), value size 2; "Event\0" "hi"
      "0100000000000000" +
        "0100000000000000" +
        "0600000000000000" +
        "0200000000000000" +
        "4576656e7400" +
        "6869",
    );
    assert.deepEqual(parseOeCustomClaims(buf), [{ name: "Event", value: enc("hi") }]);
    assert.deepEqual(parseOeCustomClaims(serializeOeCustomClaims([])), []);
  });
  it("refuses another version, a name without its NUL or with one inside, a name twice, truncation, trailing bytes", () => {
    const good = serializeOeCustomClaims([
      { name: "A", value: enc("1") },
      { name: "B", value: enc("2") },
    ]);
    const edit = (f: (b: Uint8Array) => void) => {
      const b = new Uint8Array(good);
      f(b);
      return b;
    };
    const cases: Record<string, Uint8Array> = {
      version: edit((b) => {
        b[0] = 2;
      }),
      "no NUL": edit((b) => {
        b[33] = 0x41; // "A\0" → "AA"
      }),
      "NUL inside": edit((b) => {
        b[32] = 0;
      }),
      // Two entries named "A": the header's count set to 2, the one entry repeated.
      twice: (() => {
        const one = serializeOeCustomClaims([{ name: "A", value: enc("1") }]);
        const entry = one.subarray(16);
        const b = new Uint8Array(16 + 2 * entry.byteLength);
        b.set(one.subarray(0, 16));
        b[8] = 2;
        b.set(entry, 16);
        b.set(entry, 16 + entry.byteLength);
        return b;
      })(),
      trailing: Uint8Array.of(...good, 0),
      "count too large": edit((b) => {
        b[8] = 0xff;
      }),
    };
    for (const [name, b] of Object.entries(cases))
      assert.throws(() => parseOeCustomClaims(b), { code: "ERR_SIGNER_BUNDLE_INVALID" }, name);
    for (let n = 0; n < good.byteLength; n++)
      assert.throws(() => parseOeCustomClaims(good.subarray(0, n)), { code: "ERR_SIGNER_BUNDLE_INVALID" });
  });
  it("never throws anything but its error on arbitrary bytes (fast-check)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          parseOeCustomClaims(b);
        } catch (e) {
          assert.ok(isKeywardError(e) && e.code === "ERR_SIGNER_BUNDLE_INVALID", String(e));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("a bundle in the OE custom-claims format", () => {
  const spki = new Uint8Array(
    generateKeyPairSync("rsa", { modulusLength: 3072 }).publicKey.export({ format: "der", type: "spki" }),
  );
  const claimsFor = (
    key: Uint8Array,
    purpose = "kms",
    generation = 1,
    extra: { name: string; value: Uint8Array }[] = [],
  ) =>
    serializeOeCustomClaims([
      { name: OE_KEY_CLAIMS.event, value: enc(purpose) },
      { name: OE_KEY_CLAIMS.publicKeyHash, value: sha256(key) },
      { name: OE_KEY_CLAIMS.generation, value: Uint8Array.of(0, 0, 0, generation) },
      ...extra,
    ]);
  const bundle = (customClaims: Uint8Array, publicKey = spki): KeyBundle => ({
    purpose: "kms",
    generation: 1,
    algorithm: "RSA-OAEP-256",
    publicKey,
    keyId: sha256(publicKey),
    evidence: { format: "oe-custom-claims", quote: new Uint8Array(1), customClaims },
  });
  const quoteOver = (buffer: Uint8Array) => async () =>
    ({
      tee: "sgx",
      claims: { tee: "sgx", reportData: oeCustomClaimsReportData(buffer) },
    }) as unknown as VerifiedQuote;

  it("accepts claims that name exactly this key, purpose and generation, bound by the report data", async () => {
    const c = claimsFor(spki);
    const a = await verifyKeyBundle(bundle(c), quoteOver(c));
    assert.equal(a.algorithm, "RSA-OAEP-256");
  });
  it("refuses a swapped key, a claims buffer the quote does not bind, another purpose, an extra claim", async () => {
    const other = new Uint8Array(
      generateKeyPairSync("rsa", { modulusLength: 3072 }).publicKey.export({ format: "der", type: "spki" }),
    );
    const c = claimsFor(spki);
    const cases: [string, KeyBundle, () => Promise<VerifiedQuote>][] = [
      ["swapped key", bundle(c, other), quoteOver(c)],
      ["swapped key and claims", bundle(claimsFor(other), other), quoteOver(c)],
      ["another purpose", bundle(claimsFor(spki, "other")), quoteOver(claimsFor(spki, "other")) as never],
      [
        "extra claim",
        bundle(claimsFor(spki, "kms", 1, [{ name: "x", value: enc("y") }])),
        quoteOver(claimsFor(spki, "kms", 1, [{ name: "x", value: enc("y") }])),
      ],
      ["another generation", bundle(claimsFor(spki, "kms", 2)), quoteOver(claimsFor(spki, "kms", 2))],
    ];
    for (const [name, b, q] of cases)
      await assert.rejects(verifyKeyBundle(b, q), { code: "ERR_SIGNER_BINDING_MISMATCH" }, name);
    // An RSA bundle whose key is not RSA-3072.
    const p256 = new Uint8Array(
      generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({
        format: "der",
        type: "spki",
      }),
    );
    await assert.rejects(verifyKeyBundle(bundle(claimsFor(p256), p256), quoteOver(claimsFor(p256))), {
      code: "ERR_SIGNER_KEY_INVALID",
    });
  });
});
