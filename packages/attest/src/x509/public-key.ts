/**
 * Subject public keys of certificates (RFC 5280 §4.1.2.7, RFC 5480 for EC): the
 * SubjectPublicKeyInfo is read at parse time far enough to name the key's kind, and turned into a
 * KeyObject only when a signature is checked with it. An uncompressed P-256 or P-384 point is
 * imported through its coordinates, which OpenSSL does faster than decoding the DER; any other
 * key goes through the DER decoder. Both refuse a point that is not on its curve.
 *
 * @module
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { rememberKeyKind } from "../crypto/key-details.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { DerReader, TAG } from "./der.ts";

/** What the SubjectPublicKeyInfo says about its key, before any KeyObject exists. */
export interface SubjectKeyInfo {
  /** "ec:prime256v1", "ec:secp384r1" or "ed25519" when the SPKI says so; otherwise undefined. */
  readonly kind: string | undefined;
  /** JWK curve name and coordinates of an uncompressed EC point, for the fast import. */
  readonly ec?: { readonly crv: "P-256" | "P-384"; readonly x: Uint8Array; readonly y: Uint8Array };
}

const EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const CURVES: Readonly<Record<string, { kind: string; crv: "P-256" | "P-384"; size: number }>> = {
  "1.2.840.10045.3.1.7": { kind: "ec:prime256v1", crv: "P-256", size: 32 },
  "1.3.132.0.34": { kind: "ec:secp384r1", crv: "P-384", size: 48 },
};
const ED25519 = "1.3.101.112";

/**
 * Reads the algorithm of a SubjectPublicKeyInfo (its whole DER).
 * @throws ERR_DER_MALFORMED
 */
export function readSubjectKeyInfo(spki: Uint8Array): SubjectKeyInfo {
  const outer = new DerReader(spki, "SubjectPublicKeyInfo", 2);
  const info = outer.enter(TAG.SEQUENCE, "SubjectPublicKeyInfo");
  outer.end();
  const algorithm = info.enter(TAG.SEQUENCE, "algorithm");
  const oid = algorithm.oid("algorithm");
  const parameter = algorithm.done ? undefined : algorithm.any();
  algorithm.end();
  const key = info.element(TAG.BIT_STRING, "subjectPublicKey").content;
  info.end();
  if (oid === ED25519) return { kind: "ed25519" };
  if (oid !== EC_PUBLIC_KEY || parameter?.tag !== TAG.OID) return { kind: undefined };
  const curve = CURVES[new DerReader(parameter.encoded, "namedCurve", 3).oid("namedCurve")];
  if (curve === undefined) return { kind: undefined };
  // BIT STRING with no unused bits holding 0x04 ‖ X ‖ Y (SEC 1 §2.3.3, uncompressed).
  if (key.byteLength !== 2 + 2 * curve.size || key[0] !== 0 || key[1] !== 0x04) return { kind: curve.kind };
  const x = key.subarray(2, 2 + curve.size);
  const y = key.subarray(2 + curve.size);
  return { kind: curve.kind, ec: { crv: curve.crv, x, y } };
}

/**
 * The KeyObject of a SubjectPublicKeyInfo.
 * @throws ERR_KEY_INVALID when OpenSSL refuses the key (e.g. a point not on its curve)
 */
export function importSubjectKey(spki: Uint8Array, info: SubjectKeyInfo): KeyObject {
  let key: KeyObject;
  try {
    key =
      info.ec === undefined
        ? createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" })
        : createPublicKey({
            format: "jwk",
            key: { kty: "EC", crv: info.ec.crv, x: b64url(info.ec.x), y: b64url(info.ec.y) },
          });
  } catch (cause) {
    throw new KeywardError("ERR_KEY_INVALID", "X.509: subject public key is not a valid key", { cause });
  }
  if (info.kind !== undefined) rememberKeyKind(key, info.kind);
  return key;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}
