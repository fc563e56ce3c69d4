/**
 * Signing inside the enclave with an unsealed attested key: COSE_Sign1 ES256 (RFC 9052 §4.4) by
 * default, DER ECDSA-Sig-Value (what `openssl dgst -sha256 -verify` checks), or raw r ‖ s.
 *
 * @module
 */
import { sign } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import {
  coseProtectedHeader,
  coseSign1ToBeSigned,
  encodeCoseSign1,
  type SignatureFormat,
} from "@keyward/attest/signer";
import type { SigningKey } from "./key.ts";

/**
 * Signs `data` with `key` in `format`: a tagged COSE_Sign1 carrying `data` as its payload and the
 * key id as kid, a DER signature over SHA-256(data), or raw r ‖ s (64 bytes).
 */
export function signData(key: SigningKey, data: Uint8Array, format: SignatureFormat): Uint8Array {
  if (key.algorithm !== "ES256")
    throw new KeywardError(
      "ERR_INPUT_INVALID",
      `this key is for ${key.algorithm} encryption, not for signing`,
    );
  if (format === "cose") {
    const protectedBytes = coseProtectedHeader(key.keyId);
    const tbs = coseSign1ToBeSigned(protectedBytes, data);
    const signature = new Uint8Array(sign("sha256", tbs, { key: key.privateKey, dsaEncoding: "ieee-p1363" }));
    return encodeCoseSign1(protectedBytes, data, signature);
  }
  return new Uint8Array(
    sign("sha256", data, { key: key.privateKey, dsaEncoding: format === "der" ? "der" : "ieee-p1363" }),
  );
}
