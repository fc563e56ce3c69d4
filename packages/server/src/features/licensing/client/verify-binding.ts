/**
 * The client's verification of an enclave binding, before it connects (docs/licensing.md):
 *
 * 1. trust the AK — pinned by its Name, or bound to an EK whose certificate chains to a configured
 *    manufacturer root, by credential activation (the client runs MakeCredential; only the TPM
 *    holding that EK and this exact AK recovers the secret). Attributes are checked either way
 *    (restricted signing key, fixedTPM, fixedParent, sensitiveDataOrigin);
 * 2. verify the quote with every check of the TPM verifier (`verifyTpmQuote`): scheme, signature
 *    over the exact TPMS_ATTEST, magic and type, extraData = SHA-256(nonce ‖ SHA-256(certificate))
 *    for *this client's* fresh nonce, the exact selection sha256:23, the PCR digest, and the PCR
 *    policy PCR 23 = SHA-256(0³² ‖ SHA-256(certificate DER)).
 *
 * Only then is the certificate the one to pin. Nothing here trusts the licensing server.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { concatBytes } from "@keyward/attest/bytes";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import {
  challengeAk,
  completeAkChallenge,
  pcrExtend,
  pinnedAk,
  type TpmPublic,
  type TpmQuoteVerdict,
  verifyEkCertificate,
  verifyTpmQuote,
} from "@keyward/attest/tpm";
import { type Certificate, parseCertificate } from "@keyward/attest/x509";

const TPM_ALG_SHA256 = 0x000b;

/** A binding as GetEnclaveBinding returns it. */
export interface BindingEvidence {
  readonly quote: Uint8Array;
  readonly signature: Uint8Array;
  readonly pcrValues: Uint8Array;
  readonly pcrSelection: string;
  readonly akPublic: Uint8Array;
  readonly ekCertificates: readonly Uint8Array[];
  readonly certificate: Uint8Array;
}

/** How the client trusts the server's AK. */
export type AkTrust =
  | { readonly kind: "pinned"; readonly names: readonly Uint8Array[] }
  | {
      readonly kind: "ek";
      /** The TPM manufacturers' roots. */
      readonly roots: readonly Certificate[];
      /** TPM2_ActivateCredential through the server (the ActivateAk RPC). */
      readonly activate: (credentialBlob: Uint8Array, encryptedSecret: Uint8Array) => Promise<Uint8Array>;
    };

/**
 * Establishes trust in `akPublic` (a TPM2B_PUBLIC).
 * @throws ERR_LICENSING_AK_UNTRUSTED (cause: the TPM or X.509 code), ERR_TPM_AK_ATTRIBUTES
 */
export async function trustAk(
  akPublic: Uint8Array,
  ekCertificates: readonly Uint8Array[],
  trust: AkTrust,
  at: Date,
): Promise<TpmPublic> {
  try {
    if (trust.kind === "pinned") return pinnedAk(akPublic, trust.names);
    const [ekDer, ...issuers] = ekCertificates;
    if (ekDer === undefined)
      throw new KeywardError(
        "ERR_LICENSING_AK_UNTRUSTED",
        "the server's TPM sent no EK certificate: pin its AK instead",
      );
    const ek = verifyEkCertificate(ekDer, {
      roots: trust.roots,
      intermediates: issuers.map((d) => parseCertificate(d)),
      at,
    });
    const challenge = challengeAk(ek, akPublic, new Uint8Array(randomBytes(32)));
    const answer = await trust.activate(
      challenge.credential.credentialBlob,
      challenge.credential.encryptedSecret,
    );
    return completeAkChallenge(challenge, answer);
  } catch (e) {
    if (isKeywardError(e) && (e.code === "ERR_LICENSING_AK_UNTRUSTED" || e.code === "ERR_TPM_AK_ATTRIBUTES"))
      throw e;
    throw new KeywardError(
      "ERR_LICENSING_AK_UNTRUSTED",
      `the server's AK is not trusted${isKeywardError(e) ? ` (${e.code})` : ""}`,
      { cause: e, detail: { check: isKeywardError(e) ? String(e.detail?.check ?? e.code) : "akTrust" } },
    );
  }
}

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** The quote's expected extraData: SHA-256(nonce ‖ SHA-256(certificate DER)). */
export function expectedExtraData(nonce: Uint8Array, certificate: Uint8Array): Uint8Array {
  return sha256(concatBytes(nonce, sha256(certificate)));
}

/**
 * Verifies a binding for `nonce` with the trusted `ak`: every check of `verifyTpmQuote`, with
 * the PCR 23 policy of the certificate. Returns the verdict and the certificate's hash.
 * @throws ERR_TPM_* with detail.check naming the failed check; ERR_LICENSING_INPUT_INVALID for a nonce under 16 bytes
 */
export function verifyBinding(
  binding: BindingEvidence,
  ak: TpmPublic,
  nonce: Uint8Array,
): { readonly verdict: TpmQuoteVerdict; readonly certificateSha256: Uint8Array } {
  if (nonce.byteLength < 16)
    throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "nonce: at least 16 bytes", {
      detail: { field: "nonce" },
    });
  const certHash = sha256(binding.certificate);
  const verdict = verifyTpmQuote({
    ak,
    quote: binding.quote,
    signature: binding.signature,
    extraData: expectedExtraData(nonce, binding.certificate),
    pcrSelection: [{ hash: TPM_ALG_SHA256, pcrs: [23] }],
    pcrValues: binding.pcrValues,
    pcrPolicy: [
      {
        hash: TPM_ALG_SHA256,
        index: 23,
        value: pcrExtend("sha256", new Uint8Array(32), certHash),
        check: "pcr23MatchesCert",
      },
    ],
  });
  return { verdict, certificateSha256: certHash };
}
