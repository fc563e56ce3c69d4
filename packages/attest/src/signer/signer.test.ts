/**
 * Attested keys, library side: the binding (domain separation, every input bound), the bundle's
 * strict shape, COSE_Sign1 ES256 (RFC 9052) cross-checked with an independent implementation
 * (cose-js, on the `elliptic` library rather than OpenSSL), and fast-check mutation of every parser.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { describe, it } from "node:test";
// @ts-expect-error cose-js ships no types; only its `sign.verify` is used, as an independent verifier.
import * as coseJs from "cose-js";
import fc from "fast-check";
import { toHex } from "../bytes/hex.ts";
import { sha256 } from "../crypto/digest.ts";
import { isKeywardError, KeywardError } from "../errors/keyward-error.ts";
import type { VerifiedQuote } from "../evidence/claims.ts";
import { KEY_BINDING_LABEL, keyBindingReportData } from "./binding.ts";
import { type KeyBundle, parseKeyBundle, serializeKeyBundle } from "./bundle.ts";
import {
  coseProtectedHeader,
  coseSign1ToBeSigned,
  encodeCoseSign1,
  parseCoseSign1,
  verifyCoseSign1,
} from "./cose.ts";
import { verifySignature } from "./signature.ts";
import { verifyKeyBundle } from "./verify-bundle.ts";

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject; spki: Uint8Array; keyId: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
  return { privateKey, publicKey, spki, keyId: sha256(spki) };
}

function coseSign(k: ReturnType<typeof keyPair>, payload: Uint8Array): Uint8Array {
  const p = coseProtectedHeader(k.keyId);
  const sig = sign("sha256", coseSign1ToBeSigned(p, payload), {
    key: k.privateKey,
    dsaEncoding: "ieee-p1363",
  });
  return encodeCoseSign1(p, payload, new Uint8Array(sig));
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isKeywardError(e)) return e.code;
    throw e;
  }
  return "none";
};

describe("key binding", () => {
  const spki = keyPair().spki;
  it("is SHA-256 of the length-prefixed, domain-separated encoding, then 32 zero bytes", () => {
    const rd = keyBindingReportData({ spki, purpose: "iot-readings", generation: 3 });
    const p = new TextEncoder().encode("iot-readings");
    const expected = sha256(
      new TextEncoder().encode(KEY_BINDING_LABEL),
      Uint8Array.of(0, p.byteLength),
      p,
      Uint8Array.of(0, 0, 0, 3),
      Uint8Array.of(spki.byteLength >> 8, spki.byteLength & 0xff),
      spki,
    );
    assert.equal(toHex(rd.subarray(0, 32)), toHex(expected));
    assert.ok(rd.subarray(32).every((b) => b === 0));
  });
  it("binds every input: another key, purpose or generation gives other report data", () => {
    const base = toHex(keyBindingReportData({ spki, purpose: "iot-readings", generation: 1 }));
    assert.notEqual(
      toHex(keyBindingReportData({ spki: keyPair().spki, purpose: "iot-readings", generation: 1 })),
      base,
    );
    assert.notEqual(toHex(keyBindingReportData({ spki, purpose: "image-signing", generation: 1 })), base);
    assert.notEqual(toHex(keyBindingReportData({ spki, purpose: "iot-readings", generation: 2 })), base);
  });
  it("refuses purposes, generations and keys out of range", () => {
    for (const purpose of ["", "UPPER", "a b", "x".repeat(65), "-lead"])
      assert.equal(
        codeOf(() => keyBindingReportData({ spki, purpose, generation: 1 })),
        "ERR_INPUT_INVALID",
      );
    for (const generation of [0, -1, 1.5, 2 ** 32])
      assert.equal(
        codeOf(() => keyBindingReportData({ spki, purpose: "p", generation })),
        "ERR_INPUT_INVALID",
      );
    assert.equal(
      codeOf(() => keyBindingReportData({ spki: new Uint8Array(), purpose: "p", generation: 1 })),
      "ERR_INPUT_INVALID",
    );
  });
});

describe("key bundle", () => {
  const k = keyPair();
  const bundle: KeyBundle = {
    purpose: "iot-readings",
    generation: 1,
    algorithm: "ES256",
    publicKey: k.spki,
    keyId: k.keyId,
    evidence: { format: "sgx-dcap", quote: new Uint8Array([1, 2, 3, 4]) },
    collateral: '{"x":1}',
    createdAt: "2026-11-29T00:00:00.000Z",
  };
  const text = serializeKeyBundle(bundle);
  it("round-trips", () => {
    assert.deepEqual(parseKeyBundle(text), bundle);
  });
  it("refuses every malformed field with ERR_SIGNER_BUNDLE_INVALID", () => {
    const doc = JSON.parse(text);
    const edits: Record<string, (d: Record<string, unknown>) => void> = {
      "unknown field": (d) => {
        d.extra = 1;
      },
      type: (d) => {
        d.type = "x";
      },
      version: (d) => {
        d.version = 2;
      },
      purpose: (d) => {
        d.purpose = "Not Allowed";
      },
      generation: (d) => {
        d.generation = 0;
      },
      algorithm: (d) => {
        d.algorithm = "ES384";
      },
      "publicKey not base64": (d) => {
        d.publicKey = "***";
      },
      "publicKey not canonical": (d) => {
        d.publicKey = "AB==";
      },
      keyId: (d) => {
        d.keyId = "00".repeat(32);
      },
      "evidence format": (d) => {
        (d.evidence as Record<string, unknown>).format = "tpm";
      },
      "evidence extra": (d) => {
        (d.evidence as Record<string, unknown>).nonce = "x";
      },
      collateral: (d) => {
        d.collateral = {};
      },
      createdAt: (d) => {
        d.createdAt = "yesterday";
      },
    };
    for (const [name, edit] of Object.entries(edits)) {
      const d = structuredClone(doc);
      edit(d);
      assert.equal(
        codeOf(() => parseKeyBundle(JSON.stringify(d))),
        "ERR_SIGNER_BUNDLE_INVALID",
        name,
      );
    }
    for (const t of ["", "[]", "null", "{", "x".repeat((1 << 20) + 1)])
      assert.equal(
        codeOf(() => parseKeyBundle(t)),
        "ERR_SIGNER_BUNDLE_INVALID",
      );
  });
  it("never throws anything but its error on mutated text (fast-check)", () => {
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.string({ minLength: 0, maxLength: 3 }), (at, s) => {
        try {
          parseKeyBundle(text.slice(0, at) + s + text.slice(at + 1));
        } catch (e) {
          assert.ok(isKeywardError(e), String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("verifyKeyBundle", () => {
  const k = keyPair();
  const bound = keyBindingReportData({ spki: k.spki, purpose: "iot-readings", generation: 1 });
  const quoteBinding = (reportData: Uint8Array) => async () =>
    ({ tee: "sgx", claims: { tee: "sgx", reportData } }) as unknown as VerifiedQuote;
  const bundle: KeyBundle = {
    purpose: "iot-readings",
    generation: 1,
    algorithm: "ES256",
    publicKey: k.spki,
    keyId: k.keyId,
    evidence: { format: "sgx-dcap", quote: new Uint8Array(1) },
  };
  it("accepts a key its evidence binds", async () => {
    const a = await verifyKeyBundle(bundle, quoteBinding(bound));
    assert.equal(toHex(a.keyId), toHex(k.keyId));
  });
  it("refuses a swapped key, purpose or generation with ERR_SIGNER_BINDING_MISMATCH", async () => {
    const other = keyPair();
    for (const swapped of [
      { ...bundle, publicKey: other.spki, keyId: other.keyId },
      { ...bundle, purpose: "image-signing" },
      { ...bundle, generation: 2 },
    ])
      await assert.rejects(verifyKeyBundle(swapped, quoteBinding(bound)), {
        code: "ERR_SIGNER_BINDING_MISMATCH",
      });
  });
  it("refuses a corrupted key with ERR_SIGNER_KEY_INVALID, before any evidence is read", async () => {
    const corrupt = new Uint8Array(k.spki);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 0xff;
    let read = false;
    await assert.rejects(
      verifyKeyBundle({ ...bundle, publicKey: corrupt }, async () => {
        read = true;
        throw new KeywardError("ERR_INTERNAL", "unreachable");
      }),
      { code: "ERR_SIGNER_KEY_INVALID" },
    );
    assert.equal(read, false);
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({
      format: "der",
      type: "spki",
    });
    await assert.rejects(
      verifyKeyBundle({ ...bundle, publicKey: new Uint8Array(p384) }, quoteBinding(bound)),
      {
        code: "ERR_SIGNER_KEY_INVALID",
      },
    );
  });
  it("refuses evidence of another TEE than the bundle names", async () => {
    await assert.rejects(
      verifyKeyBundle(
        bundle,
        async () => ({ tee: "tdx", claims: { tee: "tdx", reportData: bound } }) as unknown as VerifiedQuote,
      ),
      { code: "ERR_SIGNER_BUNDLE_INVALID" },
    );
  });
});

describe("COSE_Sign1 ES256", () => {
  const k = keyPair();
  const payload = new TextEncoder().encode('{"sensor":"t1","celsius":21.5}');
  const msg = coseSign(k, payload);
  const jwk = k.publicKey.export({ format: "jwk" }) as { x: string; y: string };

  it("verifies its own, and an independent implementation (cose-js) verifies it too", async () => {
    assert.deepEqual(verifyCoseSign1(msg, k.publicKey, k.keyId), payload);
    const out: Buffer = await coseJs.sign.verify(Buffer.from(msg), {
      key: { x: Buffer.from(jwk.x, "base64url"), y: Buffer.from(jwk.y, "base64url") },
    });
    assert.deepEqual(new Uint8Array(out), payload);
  });
  it("verifies a COSE_Sign1 that cose-js created", async () => {
    const d = k.privateKey.export({ format: "jwk" }).d as string;
    const made: Buffer = await coseJs.sign.create(
      { p: { alg: "ES256", kid: Buffer.from(k.keyId) }, u: {} },
      Buffer.from(payload),
      { key: { d: Buffer.from(d, "base64url") } },
    );
    assert.deepEqual(verifyCoseSign1(new Uint8Array(made), k.publicKey, k.keyId, payload), payload);
  });
  it("refuses another key, other data, a changed byte, and a kid of another key", () => {
    const other = keyPair();
    assert.equal(
      codeOf(() => verifyCoseSign1(msg, other.publicKey, k.keyId)),
      "ERR_SIGNER_SIGNATURE_INVALID",
    );
    assert.equal(
      codeOf(() => verifyCoseSign1(msg, other.publicKey, other.keyId)),
      "ERR_SIGNER_KEY_MISMATCH",
    );
    assert.equal(
      codeOf(() => verifyCoseSign1(msg, k.publicKey, k.keyId, new Uint8Array([1]))),
      "ERR_SIGNER_SIGNATURE_INVALID",
    );
    // Every byte flipped: never accepted.
    for (let i = 0; i < msg.length; i++) {
      const m = new Uint8Array(msg);
      m[i] = (m[i] ?? 0) ^ 0x01;
      const code = codeOf(() => verifyCoseSign1(m, k.publicKey, k.keyId));
      assert.notEqual(code, "none", `byte ${i}`);
    }
  });
  it("refuses an algorithm other than ES256 in the protected header", () => {
    const p = new Uint8Array(coseProtectedHeader(k.keyId));
    p[2] = 0x38; // -7 → -25 (ECDH-ES + HKDF-256): not a signature algorithm
    p[3] = 0x18;
    assert.equal(
      codeOf(() => parseCoseSign1(encodeCoseSign1(p, payload, new Uint8Array(64)))),
      "ERR_SIGNER_SIGNATURE_MALFORMED",
    );
  });
  it("refuses every truncation, and mutated bytes only ever throw its errors (fast-check)", () => {
    for (let n = 0; n < msg.length; n++)
      assert.notEqual(
        codeOf(() => verifyCoseSign1(msg.subarray(0, n), k.publicKey, k.keyId)),
        "none",
      );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
        try {
          parseCoseSign1(bytes);
        } catch (e) {
          assert.ok(isKeywardError(e) && e.code === "ERR_SIGNER_SIGNATURE_MALFORMED", String(e));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("DER and raw signatures", () => {
  const k = keyPair();
  const data = new TextEncoder().encode("reading");
  it("verify, and refuse another key's or changed data", () => {
    const der = new Uint8Array(sign("sha256", data, k.privateKey));
    const raw = new Uint8Array(sign("sha256", data, { key: k.privateKey, dsaEncoding: "ieee-p1363" }));
    verifySignature("der", k.publicKey, k.keyId, data, der);
    verifySignature("raw", k.publicKey, k.keyId, data, raw);
    const other = keyPair();
    assert.equal(
      codeOf(() => verifySignature("der", other.publicKey, other.keyId, data, der)),
      "ERR_SIGNER_SIGNATURE_INVALID",
    );
    assert.equal(
      codeOf(() => verifySignature("raw", k.publicKey, k.keyId, new Uint8Array(1), raw)),
      "ERR_SIGNER_SIGNATURE_INVALID",
    );
    assert.equal(
      codeOf(() => verifySignature("raw", k.publicKey, k.keyId, data, der)),
      "ERR_SIGNER_SIGNATURE_MALFORMED",
    );
    assert.equal(
      codeOf(() => verifySignature("der", k.publicKey, k.keyId, data, raw)),
      raw[0] === 0x30 ? "ERR_SIGNER_SIGNATURE_INVALID" : "ERR_SIGNER_SIGNATURE_MALFORMED",
    );
  });
});
