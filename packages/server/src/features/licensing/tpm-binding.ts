/**
 * Binding an enclave's TLS certificate into a TPM quote (reference/tpm.md §5, docs/tpm.md), through
 * Keyward's TPM client:
 *
 *   PCR 23 ← reset, then extend(SHA-256(certificate DER))   — so PCR 23 = SHA-256(0³² ‖ certHash)
 *   TPM2_Quote(AK, extraData = SHA-256(nonce ‖ certHash), sha256:23)
 *
 * The PCR says which certificate, the extraData says for which client nonce: a quote made for one
 * client or one enclave cannot be taken for another's, and an old one cannot be replayed for a new
 * nonce. PCR 23 is shared state, so reset–extend–quote–read run under one lock (concurrent
 * bindings queue; the quote and the PCR value returned are of the same extend).
 *
 * The AK is a primary ECC P-256 restricted signing key of the endorsement hierarchy from a fixed
 * template: the same key on every start against the same TPM, so a client may pin it. The EK is the
 * persistent RSA EK at 0x81010001 when the TPM was manufactured with one (its certificate in NV
 * 0x01c00002), else one made from the TCG default template (then there is no EK certificate, and
 * clients must pin the AK). ActivateCredential through that EK lets a client bind the AK to the
 * certified EK without trusting this server (TPM 2.0 Part 1 §24).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { concatBytes } from "@keyward/attest/bytes";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { parsePemCertificates } from "@keyward/attest/x509";
import { akEccTemplate, ekRsaTemplate, TPM_RH, TpmClient, type TpmKey } from "@keyward/platform/tpm";

const TPM_ALG_SHA256 = 0x000b;
const BINDING_PCR = 23;
const EK_PERSISTENT = 0x81010001;
const EK_CERT_NV = 0x01c00002;
const CREDENTIAL_MAX_BYTES = 1024;

/** What a binding returns: everything a client needs to verify it. */
export interface TpmBinding {
  readonly quote: Uint8Array;
  readonly signature: Uint8Array;
  readonly pcrValues: Uint8Array;
  readonly pcrSelection: string;
  readonly akPublic: Uint8Array;
  readonly ekCertificates: readonly Uint8Array[];
}

/** The licensing server's TPM. */
export interface TpmBinder {
  /**
   * Binds `certificateDer` for `nonce`.
   * @throws ERR_LICENSING_TPM
   */
  bind(certificateDer: Uint8Array, nonce: Uint8Array): Promise<TpmBinding>;
  /**
   * TPM2_ActivateCredential(AK, EK) of a client's MakeCredential: the recovered secret.
   * @throws ERR_LICENSING_INPUT_INVALID for oversized blobs, ERR_LICENSING_TPM when the TPM refuses
   */
  activate(credentialBlob: Uint8Array, encryptedSecret: Uint8Array): Promise<Uint8Array>;
  /** The AK's TPM2B_PUBLIC and Name. */
  readonly ak: { readonly public: Uint8Array; readonly name: Uint8Array };
  close(): Promise<void>;
}

/** SHA-256(nonce ‖ SHA-256(certificate DER)): the quote's extraData. */
export function bindingExtraData(nonce: Uint8Array, certificateHash: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(concatBytes(nonce, certificateHash)).digest());
}

const tpmError = (what: string, cause: unknown) =>
  new KeywardError(
    "ERR_LICENSING_TPM",
    `TPM: ${what} failed${isKeywardError(cause) ? ` (${cause.code})` : ""}`,
    {
      cause,
      detail: { command: what },
    },
  );

/**
 * Opens the TPM at `uri` (tcp://, unix:, device:), starts it, loads the AK and finds the EK.
 * `ekChainPem`: the EK certificate's issuers, sent with it.
 * @throws ERR_LICENSING_TPM
 */
export async function openTpmBinder(uri: string, ekChainPem?: string): Promise<TpmBinder> {
  const client = TpmClient.open(uri);
  let ak: TpmKey;
  let ekHandle: number;
  let ekTransient = false;
  const ekCertificates: Uint8Array[] = [];
  try {
    await client.startup();
    ak = await client.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate());
    try {
      ekHandle = (await client.readPublic(EK_PERSISTENT)).handle;
      ekCertificates.push(await client.nvRead(EK_CERT_NV));
      for (const c of parsePemCertificates(ekChainPem ?? "", 8)) ekCertificates.push(c.der);
    } catch (e) {
      if (!isKeywardError(e) || e.code !== "ERR_TPM_RESPONSE") throw e;
      ekHandle = (await client.createPrimary(TPM_RH.ENDORSEMENT, ekRsaTemplate())).handle;
      ekTransient = true;
    }
  } catch (e) {
    client.close();
    throw tpmError("start", e);
  }
  let lock: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const run = lock.then(work, work);
    lock = run.catch(() => undefined);
    return run;
  };
  const banks = [{ hash: TPM_ALG_SHA256, pcrs: [BINDING_PCR] }];
  return {
    ak: { public: ak.public, name: ak.name },
    bind(certificateDer, nonce) {
      const certHash = new Uint8Array(createHash("sha256").update(certificateDer).digest());
      const extraData = bindingExtraData(nonce, certHash);
      return serialized(async () => {
        try {
          await client.pcrReset(BINDING_PCR);
          await client.pcrExtend(BINDING_PCR, certHash);
          const { attest, signature } = await client.quote(ak.handle, extraData, banks);
          const pcrValues = await client.pcrRead(banks);
          return {
            quote: attest,
            signature,
            pcrValues,
            pcrSelection: `sha256:${BINDING_PCR}`,
            akPublic: ak.public,
            ekCertificates,
          };
        } catch (e) {
          throw tpmError("quote", e);
        }
      });
    },
    activate(credentialBlob, encryptedSecret) {
      if (
        credentialBlob.byteLength > CREDENTIAL_MAX_BYTES ||
        encryptedSecret.byteLength > CREDENTIAL_MAX_BYTES
      )
        throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "credential: at most 1024 bytes each", {
          detail: { field: "credential_blob" },
        });
      return serialized(async () => {
        try {
          return await client.activateCredential(ak.handle, ekHandle, credentialBlob, encryptedSecret);
        } catch (e) {
          throw tpmError("ActivateCredential", e);
        }
      });
    },
    async close() {
      await serialized(async () => {
        await client.flushContext(ak.handle).catch(() => undefined);
        if (ekTransient) await client.flushContext(ekHandle).catch(() => undefined);
      });
      client.close();
    },
  };
}
