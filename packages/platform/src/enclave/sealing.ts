/**
 * Sealing: data only this enclave (policy "mrenclave") or its signer's enclaves of this product
 * (policy "mrsigner") can read. AES-256-GCM under a sealing key from the attester, the key id, SVN
 * and policy recorded in the blob, all of the header bound as additional data.
 *
 * Blob, version 1:
 *   "KWSEAL" (6) ‖ version 0x01 ‖ policy (1 = mrenclave, 2 = mrsigner) ‖ ISVSVN (u16 BE)
 *   ‖ key id (32) ‖ IV (12) ‖ ciphertext ‖ tag (16)
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ByteReader, bytesEqual, concatBytes } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import type { Attester, SealPolicy } from "../attester/attester.ts";

const MAGIC = new TextEncoder().encode("KWSEAL");
const VERSION = 1;
const MAX_SEALED = 64 * 1024 * 1024;

/** Options of {@link sealWith}. */
export interface SealOptions {
  readonly policy: SealPolicy;
  /** Additional data bound to the blob (e.g. a file name); the same must be given to unseal. */
  readonly aad?: Uint8Array;
}

/** Seals `data` with the attester's sealing key, at the enclave's own SVN. */
export async function sealWith(
  attester: Attester,
  data: Uint8Array,
  options: SealOptions,
): Promise<Uint8Array> {
  const keyOf = sealingKeyOf(attester);
  const self = await attester.identity();
  if (self.tee !== "sgx")
    throw new KeywardError("ERR_ATTESTER_UNAVAILABLE", "sealing needs an SGX enclave identity");
  const keyId = new Uint8Array(randomBytes(32));
  const header = concatBytes(
    MAGIC,
    Uint8Array.of(VERSION, options.policy === "mrenclave" ? 1 : 2, self.isvSvn >> 8, self.isvSvn & 0xff),
    keyId,
  );
  const key = await keyOf({ policy: options.policy, keyId, isvSvn: self.isvSvn });
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(concatBytes(header, options.aad ?? new Uint8Array()));
  const ciphertext = concatBytes(new Uint8Array(cipher.update(data)), new Uint8Array(cipher.final()));
  key.fill(0);
  return concatBytes(header, new Uint8Array(iv), ciphertext, new Uint8Array(cipher.getAuthTag()));
}

/**
 * Opens a sealed blob. Another identity, any changed byte, other additional data or an unknown
 * format: ERR_SEALED_BLOB_INVALID. A blob sealed at a higher SVN than ours: ERR_SEAL_SVN_TOO_HIGH.
 */
export async function unsealWith(
  attester: Attester,
  blob: Uint8Array,
  options: { readonly aad?: Uint8Array } = {},
): Promise<Uint8Array> {
  const keyOf = sealingKeyOf(attester);
  if (blob.byteLength > MAX_SEALED) invalid(`larger than ${MAX_SEALED} bytes`);
  let r: ByteReader;
  let policyByte: number;
  let svn: number;
  let keyId: Uint8Array;
  let iv: Uint8Array;
  let body: Uint8Array;
  try {
    r = new ByteReader(blob, "sealed blob");
    if (!bytesEqual(r.bytes(6), MAGIC)) invalid("not a Keyward sealed blob");
    const version = r.u8();
    if (version !== VERSION) invalid(`format version ${version} is not known`);
    policyByte = r.u8();
    svn = r.u16be();
    keyId = r.bytes(32);
    iv = r.bytes(12);
    body = r.rest();
  } catch (e) {
    if (e instanceof KeywardError && e.code === "ERR_SEALED_BLOB_INVALID") throw e;
    return invalid("truncated");
  }
  if (policyByte !== 1 && policyByte !== 2) invalid(`policy ${policyByte} is not known`);
  if (body.byteLength < 16) invalid("truncated");
  const header = blob.subarray(0, 6 + 4 + 32);
  const key = await keyOf({ policy: policyByte === 1 ? "mrenclave" : "mrsigner", keyId, isvSvn: svn });
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(concatBytes(header, options.aad ?? new Uint8Array()));
    decipher.setAuthTag(body.subarray(body.byteLength - 16));
    return concatBytes(
      new Uint8Array(decipher.update(body.subarray(0, body.byteLength - 16))),
      new Uint8Array(decipher.final()),
    );
  } catch {
    return invalid("it does not open with this enclave's key: another identity, or a changed byte");
  } finally {
    key.fill(0);
  }
}

function invalid(why: string): never {
  throw new KeywardError("ERR_SEALED_BLOB_INVALID", `sealed blob: ${why}`);
}

function sealingKeyOf(attester: Attester): NonNullable<Attester["sealingKey"]> {
  if (attester.sealingKey === undefined)
    throw new KeywardError(
      "ERR_ATTESTER_UNAVAILABLE",
      `the ${attester.backend} backend offers no sealing keys`,
    );
  return attester.sealingKey;
}
