/**
 * Where the master key comes from. Under an attester that offers sealing (SGX: Gramine's
 * /dev/attestation keys), the key is generated inside the enclave and stored only sealed to the
 * service's signer identity (MRSIGNER with the product and SVN recorded), so a copy of the data
 * directory is useless outside an enclave of the same signer with at least that SVN. Elsewhere a
 * key file is used (development, or a TEE without sealing such as a TDX guest).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { type Attester, type SealPolicy, sealWith, unsealWith } from "@keyward/platform/enclave";
import { readFileBounded } from "@keyward/platform/io";

const AAD = new TextEncoder().encode("keyward-master-key-v1");

/**
 * The master key sealed at `path`: unsealed when the file exists, else generated and sealed there
 * (mode 0600, O_EXCL: two replicas starting together never keep two keys).
 * @throws ERR_SERVICE_MASTER_KEY when the blob does not unseal (another signer, a lower SVN, or edited)
 */
export async function loadOrCreateSealedMasterKey(
  attester: Attester,
  path: string,
  policy: SealPolicy = "mrsigner",
): Promise<Uint8Array> {
  let blob: Uint8Array | undefined;
  try {
    blob = readSealed(path);
  } catch (e) {
    if (!isKeywardError(e, "ERR_IO") || e.detail?.reason !== "ENOENT") throw e;
  }
  if (blob === undefined) {
    const key = new Uint8Array(randomBytes(32));
    const sealed = await sealWith(attester, key, { policy, aad: AAD });
    try {
      writeFileSync(path, sealed, { mode: 0o600, flag: "wx" });
      return key;
    } catch (e) {
      key.fill(0);
      if ((e as NodeJS.ErrnoException).code !== "EEXIST")
        throw new KeywardError("ERR_SERVICE_MASTER_KEY", "cannot write the sealed master key", { cause: e });
      blob = readSealed(path); // another process won the race: use its key
    }
  }
  try {
    const key = await unsealWith(attester, blob, { aad: AAD });
    if (key.byteLength !== 32) throw new Error(`unsealed ${key.byteLength} bytes, not 32`);
    return key;
  } catch (cause) {
    throw new KeywardError(
      "ERR_SERVICE_MASTER_KEY",
      "the sealed master key does not unseal here (another signer or enclave, a lower SVN, or an edited file)",
      { cause },
    );
  }
}

// The sealed blob through the bounded reader (a regular file of at most 64 KiB). @throws ERR_IO
function readSealed(path: string): Uint8Array {
  return readFileBounded(path, { kind: "key", what: "sealed master key" });
}
