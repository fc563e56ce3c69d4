/** Error codes of RA-TLS certificates and channels. */
export const ratlsCodes = {
  ERR_RATLS_NO_EVIDENCE:
    "The certificate carries no RA-TLS evidence extension (TCG, Gramine, Intel SGX SDK or Open Enclave).",
  ERR_RATLS_MALFORMED: "An RA-TLS evidence extension is malformed (CBOR wrapper, claims, headers).",
  ERR_RATLS_BINDING_MISMATCH:
    "The evidence does not bind this certificate's key (report data, claims or pubkey-hash differ).",
  ERR_RATLS_NONCE_MISMATCH: "The evidence does not carry the nonce the verifier required.",
  ERR_RATLS_CERT_EXPIRED: "The RA-TLS certificate is outside its validity at the verification time.",
  ERR_RATLS_POLICY_REJECTED: "The peer's evidence is authentic, but the policy does not accept its claims.",
} as const;
