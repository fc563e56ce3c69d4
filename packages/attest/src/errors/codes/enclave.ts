/** Error codes of the enclave runtime: SIGSTRUCT, manifests, the launcher, sealing, attesters. */
export const enclaveCodes = {
  ERR_SIGSTRUCT_MALFORMED:
    "A SIGSTRUCT is not the 1808-byte structure the SDM defines (header, exponent, reserved bytes, date).",
  ERR_SIGSTRUCT_SIGNATURE_INVALID: "A SIGSTRUCT's RSA-3072 signature, or its Q1/Q2 values, do not verify.",
  ERR_MEASUREMENT_MISMATCH: "The measurement rebuilt from the manifest differs from the one in the evidence.",
  ERR_MANIFEST_INVALID: "An enclave manifest is not valid: every problem is listed.",
  ERR_ENCLAVE_FILE_CHANGED: "A trusted file changed between measurement and load: the launch is refused.",
  ERR_ENCLAVE_CHANNEL:
    "The private channel between the enclave and its launcher failed or carried a malformed message.",
  ERR_SEAL_SVN_TOO_HIGH: "A sealing key was asked for a higher SVN than the enclave's own.",
  ERR_SEALED_BLOB_INVALID:
    "A sealed blob does not open: another identity, a changed byte, or an unknown format.",
  ERR_ATTESTER_UNAVAILABLE:
    "No attestation interface is available (Gramine /dev/attestation, configfs-tsm, or a simulated launcher).",
  ERR_ATTESTER_FAILED:
    "The attestation interface failed, or returned evidence that does not carry the requested report data.",
} as const;
