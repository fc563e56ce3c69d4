/** Error codes of TPM 2.0: structures, quote verification, the client. */
export const tpmCodes = {
  ERR_TPM_PUBLIC_INVALID: "A TPM2B_PUBLIC / TPMT_PUBLIC is malformed or of an unsupported type.",
  ERR_TPM_ATTEST_INVALID: "A TPMS_ATTEST has the wrong magic or type, or a field out of range.",
  ERR_TPM_SIGNATURE_MALFORMED: "A TPMT_SIGNATURE is malformed or of an unsupported algorithm.",
  ERR_TPM_AK_ATTRIBUTES:
    "The attestation key is not a restricted signing key that never left its TPM (fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign; no decrypt).",
  ERR_TPM_SCHEME_UNSUPPORTED: "The signing scheme or hash is not the AK's, or not allowed (SHA-1 never is).",
  ERR_TPM_QUOTE_SIGNATURE_INVALID: "The quote's signature does not verify with the AK.",
  ERR_TPM_EXTRA_DATA_MISMATCH:
    "The quote's extraData is not the expected nonce (or nonce-and-certificate binding): stale or replayed.",
  ERR_TPM_PCR_SELECTION_MISMATCH: "The quote covers another PCR selection than the one required.",
  ERR_TPM_PCR_DIGEST_MISMATCH: "The reported PCR values do not hash to the quote's pcrDigest.",
  ERR_TPM_PCR_POLICY_MISMATCH:
    "A PCR value differs from the expected one (e.g. PCR 23 does not hold the certificate's hash).",
  ERR_TPM_QUALIFIED_SIGNER_MISMATCH: "The quote's qualifiedSigner is not the AK's expected qualified name.",
  ERR_TPM_CLOCK_REGRESSION:
    "The TPM's clock or reset/restart counters went back since the previous quote of this AK, or the clock is not safe.",
  ERR_TPM_RESPONSE: "The TPM answered a command with an error response code (see detail.rc).",
  ERR_TPM_TRANSPORT: "The TPM could not be reached, or its response was cut short.",
  ERR_TPM_AK_UNTRUSTED:
    "The attestation key is neither pinned nor proven to live in the TPM of a certified EK (credential activation failed).",
  ERR_TPM_EK_UNTRUSTED:
    "The EK certificate does not chain to a configured manufacturer root, or does not match the EK.",
} as const;
