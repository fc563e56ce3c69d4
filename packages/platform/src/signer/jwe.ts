/**
 * Encryption to an attested enclave: a compact JWE (RFC 7516) to a key whose bundle verified —
 * `ECDH-ES+A256KW` for a P-256 key (RFC 7518 §4.6), `RSA-OAEP-256` for an RSA-3072 key (§4.3, as
 * Open Enclave's samples use), content `A256GCM` — and its decryption inside the enclave with the
 * unsealed key. The protected header names the key (`kid`: hex SHA-256 of the SPKI), so the enclave
 * refuses a message made for another of its keys before it tries to open it. Built on `jose`.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import type { KeyAlgorithm } from "@keyward/attest/signer";
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from "jose";
import type { SigningKey } from "./key.ts";

/** The key an encryptor uses: from a verified bundle (`AttestedKey` has these fields). */
export interface EncryptionKey {
  readonly key: KeyObject;
  readonly keyId: Uint8Array;
  readonly algorithm: KeyAlgorithm;
}

const ENC = "A256GCM";

/**
 * A compact JWE of `plaintext` to `recipient`.
 * @throws ERR_INPUT_INVALID when the key is a signing key (ES256)
 */
export async function encryptToAttestedKey(recipient: EncryptionKey, plaintext: Uint8Array): Promise<string> {
  if (recipient.algorithm === "ES256")
    throw new KeywardError(
      "ERR_INPUT_INVALID",
      "this attested key signs (ES256); encrypt to an ECDH-ES+A256KW or RSA-OAEP-256 key",
    );
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: recipient.algorithm, enc: ENC, kid: toHex(recipient.keyId) })
    .encrypt(recipient.key);
}

/**
 * Opens a compact JWE made by {@link encryptToAttestedKey} with the unsealed `key`: the header
 * must name this key and its algorithm, and `A256GCM`.
 * @throws ERR_SIGNER_KEY_MISMATCH (another key), ERR_SIGNER_SIGNATURE_MALFORMED (not such a JWE),
 * ERR_SIGNER_SIGNATURE_INVALID (it does not open: changed, or not for this key)
 */
export async function decryptWithAttestedKey(key: SigningKey, jwe: string): Promise<Uint8Array> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jwe);
  } catch (cause) {
    throw new KeywardError("ERR_SIGNER_SIGNATURE_MALFORMED", "not a compact JWE", { cause });
  }
  if (header.kid !== toHex(key.keyId))
    throw new KeywardError("ERR_SIGNER_KEY_MISMATCH", "the JWE is for another key");
  if (header.alg !== key.algorithm || header.enc !== ENC || key.algorithm === "ES256")
    throw new KeywardError(
      "ERR_SIGNER_SIGNATURE_MALFORMED",
      `the JWE is ${String(header.alg)}/${String(header.enc)}, not ${key.algorithm}/${ENC}`,
    );
  try {
    const { plaintext } = await compactDecrypt(jwe, key.privateKey, {
      keyManagementAlgorithms: [key.algorithm],
      contentEncryptionAlgorithms: [ENC],
    });
    return plaintext;
  } catch (cause) {
    throw new KeywardError("ERR_SIGNER_SIGNATURE_INVALID", "the JWE does not open with this key", { cause });
  }
}
