/** Error codes of the enclave runtime: SIGSTRUCT, manifests, the launcher, sealing, attesters. */
export const enclaveCodes = {
  ERR_SIGSTRUCT_MALFORMED:
    "A SIGSTRUCT is not the 1808-byte structure the SDM defines (header, exponent, reserved bytes, date).",
  ERR_SIGSTRUCT_SIGNATURE_INVALID: "A SIGSTRUCT's RSA-3072 signature, or its Q1/Q2 values, do not verify.",
  ERR_MEASUREMENT_MISMATCH: "The measurement rebuilt from the manifest differs from the one in the evidence.",
} as const;
