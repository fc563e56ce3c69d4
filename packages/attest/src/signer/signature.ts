/**
 * Checking a signature made with an attested key, in the three forms `keyward signer sign`
 * writes: COSE_Sign1 (the default for readings), a DER ECDSA-Sig-Value (`openssl dgst -sha256
 * -sign`'s form), or raw r ‖ s.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { verifyP256, verifyP256Der } from "../crypto/p256.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { verifyCoseSign1 } from "./cose.ts";

/** The signature forms. */
export type SignatureFormat = "cose" | "der" | "raw";

/** The signature forms, for flag validation. */
export const SIGNATURE_FORMATS: readonly SignatureFormat[] = ["cose", "der", "raw"];

/**
 * Verifies `signature` over `data` under `key` (id `keyId`), in `format`.
 * @throws ERR_SIGNER_SIGNATURE_MALFORMED, ERR_SIGNER_KEY_MISMATCH, ERR_SIGNER_SIGNATURE_INVALID
 */
export function verifySignature(
  format: SignatureFormat,
  key: KeyObject,
  keyId: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
): void {
  if (format === "cose") {
    verifyCoseSign1(signature, key, keyId, data);
    return;
  }
  if (format === "raw" && signature.byteLength !== 64)
    throw new KeywardError(
      "ERR_SIGNER_SIGNATURE_MALFORMED",
      `a raw ES256 signature is 64 bytes, not ${signature.byteLength}`,
    );
  if (format === "der" && (signature.byteLength < 8 || signature.byteLength > 72 || signature[0] !== 0x30))
    throw new KeywardError("ERR_SIGNER_SIGNATURE_MALFORMED", "not a DER ECDSA-Sig-Value");
  const ok = format === "raw" ? verifyP256(key, data, signature) : verifyP256Der(key, data, signature);
  if (!ok) throw new KeywardError("ERR_SIGNER_SIGNATURE_INVALID", `the ${format} signature does not verify`);
}
