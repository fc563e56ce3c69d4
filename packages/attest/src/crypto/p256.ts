/**
 * ECDSA P-256 as DCAP uses it: raw X‖Y public keys and raw r‖s signatures.
 *
 * @module
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { KeywardError } from "../errors/keyward-error.ts";
import { keyKind, rememberKeyKind } from "./key-details.ts";

/**
 * Imports a raw P-256 public key, X‖Y (64 bytes), the form DCAP quotes carry.
 * @throws ERR_KEY_INVALID when the size is wrong or the point is not on the curve
 */
export function p256FromRaw(xy: Uint8Array): KeyObject {
  if (xy.byteLength !== 64) {
    throw new KeywardError("ERR_KEY_INVALID", `P-256 raw key: expected 64 bytes, got ${xy.byteLength}`);
  }
  try {
    const key = createPublicKey({
      format: "jwk",
      key: { kty: "EC", crv: "P-256", x: b64url(xy.subarray(0, 32)), y: b64url(xy.subarray(32)) },
    });
    rememberKeyKind(key, "ec:prime256v1");
    return key;
  } catch (cause) {
    throw new KeywardError("ERR_KEY_INVALID", "P-256 raw key: not a point on the curve", { cause });
  }
}

/** The raw X‖Y (64 bytes) of a P-256 public key. */
export function p256ToRaw(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || jwk.x === undefined || jwk.y === undefined) {
    throw new KeywardError("ERR_KEY_INVALID", "P-256 raw key: not a P-256 public key");
  }
  const out = new Uint8Array(64);
  out.set(Buffer.from(jwk.x, "base64url"), 0);
  out.set(Buffer.from(jwk.y, "base64url"), 32);
  return out;
}

/**
 * ECDSA P-256 with SHA-256; `signature` is raw r‖s (IEEE P1363). A primitive: returns false on a
 * bad signature, and the verifier that calls it turns that into its own error code.
 */
export function verifyP256(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength !== 64) return false;
  if (keyKind(key) !== "ec:prime256v1") return false;
  try {
    return verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    // OpenSSL rejects some malformed signatures by throwing; for a verifier that is just "invalid".
    return false;
  }
}

/**
 * Imports a P-256 public key from its SubjectPublicKeyInfo (RFC 5480 §2, DER), the form a key
 * bundle carries. Only id-ecPublicKey on prime256v1 is accepted.
 * @throws ERR_KEY_INVALID when it is not DER, not EC, not P-256, or not a point on the curve
 */
export function p256FromSpki(spki: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
      format: "der",
      type: "spki",
    });
  } catch (cause) {
    throw new KeywardError("ERR_KEY_INVALID", "P-256 SPKI: not a public key in DER", { cause });
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw new KeywardError("ERR_KEY_INVALID", "P-256 SPKI: not an EC key on P-256");
  // OpenSSL accepts a few encodings of one key (compressed points); the bundle binds exact bytes,
  // so only the canonical uncompressed form that we write is accepted.
  const canonical = new Uint8Array(key.export({ format: "der", type: "spki" }));
  if (canonical.byteLength !== spki.byteLength || !canonical.every((b, i) => b === spki[i]))
    throw new KeywardError("ERR_KEY_INVALID", "P-256 SPKI: not the canonical uncompressed encoding");
  rememberKeyKind(key, "ec:prime256v1");
  return key;
}

/** The SubjectPublicKeyInfo (DER) of a public key. */
export function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: "der", type: "spki" }));
}

/**
 * ECDSA P-256 with SHA-256; `signature` is a DER ECDSA-Sig-Value (RFC 3279 §2.2.3), as
 * `openssl dgst -sign` writes it. OpenSSL re-encodes and compares, so a non-canonical DER fails.
 * A primitive: false on a bad signature.
 */
export function verifyP256Der(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength < 8 || signature.byteLength > 72) return false;
  if (keyKind(key) !== "ec:prime256v1") return false;
  try {
    return verify("sha256", message, { key, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}
