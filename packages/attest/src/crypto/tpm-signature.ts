/**
 * Verifying TPM signatures (ECDSA with r and s as TPM2Bs, RSASSA-PKCS1-v1_5, RSAPSS with a salt
 * as long as the hash) with OpenSSL.
 *
 * @module
 */
import { constants, type KeyObject, verify } from "node:crypto";
import { concatBytes } from "../bytes/equal.ts";
import { pad } from "./tpm-keys.ts";

/** True when the signature verifies. A primitive: the caller turns false into its error. */
export function verifyTpmSignature(
  key: KeyObject,
  hash: "sha256" | "sha384" | "sha512",
  message: Uint8Array,
  signature:
    | { readonly kind: "ecdsa"; readonly r: Uint8Array; readonly s: Uint8Array; readonly size: number }
    | { readonly kind: "rsassa" | "rsapss"; readonly sig: Uint8Array },
): boolean {
  try {
    if (signature.kind === "ecdsa") {
      if (signature.r.byteLength > signature.size || signature.s.byteLength > signature.size) return false;
      const p1363 = concatBytes(pad(signature.r, signature.size), pad(signature.s, signature.size));
      return verify(hash, message, { key, dsaEncoding: "ieee-p1363" }, p1363);
    }
    if (signature.kind === "rsapss") {
      return verify(
        hash,
        message,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature.sig,
      );
    }
    return verify(hash, message, { key, padding: constants.RSA_PKCS1_PADDING }, signature.sig);
  } catch {
    return false;
  }
}
