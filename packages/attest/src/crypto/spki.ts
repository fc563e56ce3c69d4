/**
 * RSA public keys from a SubjectPublicKeyInfo (RFC 8017 A.1.1, rsaEncryption), held to one
 * modulus size, as encryption to an attested enclave uses them (RSA-OAEP-256 with RSA-3072, as
 * Open Enclave's samples do).
 *
 * @module
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { KeywardError } from "../errors/keyward-error.ts";
import { rememberKeyKind } from "./key-details.ts";

/**
 * Imports an RSA public key of exactly `bits` from its SPKI (DER), in its canonical encoding.
 * @throws ERR_KEY_INVALID
 */
export function rsaFromSpki(spki: Uint8Array, bits: 3072): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
      format: "der",
      type: "spki",
    });
  } catch (cause) {
    throw new KeywardError("ERR_KEY_INVALID", "RSA SPKI: not a public key in DER", { cause });
  }
  if (key.asymmetricKeyType !== "rsa" || key.asymmetricKeyDetails?.modulusLength !== bits)
    throw new KeywardError("ERR_KEY_INVALID", `RSA SPKI: not an RSA-${bits} key (rsaEncryption)`);
  const canonical = new Uint8Array(key.export({ format: "der", type: "spki" }));
  if (canonical.byteLength !== spki.byteLength || !canonical.every((b, i) => b === spki[i]))
    throw new KeywardError("ERR_KEY_INVALID", "RSA SPKI: not the canonical encoding");
  rememberKeyKind(key, `rsa:${bits}`);
  return key;
}
