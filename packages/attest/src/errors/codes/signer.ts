/** Error codes of attested signing keys: key bundles, their binding, and signatures made with them. */
export const signerCodes = {
  ERR_SIGNER_BUNDLE_INVALID:
    "An attested key bundle is not the JSON document Keyward writes (a field missing, of the wrong type or out of range).",
  ERR_SIGNER_KEY_INVALID: "A bundle's public key is not a P-256 SubjectPublicKeyInfo (DER).",
  ERR_SIGNER_BINDING_MISMATCH:
    "The evidence's report data does not bind the bundle's public key, purpose and generation: the key was swapped or changed.",
  ERR_SIGNER_SIGNATURE_MALFORMED:
    "A signature is not a COSE_Sign1 (RFC 9052), DER ECDSA-Sig-Value or raw r‖s structure as expected.",
  ERR_SIGNER_SIGNATURE_INVALID: "A signature does not verify under the attested key, for these bytes.",
  ERR_SIGNER_KEY_MISMATCH: "A signature names (COSE kid) a key other than the one it is checked against.",
  ERR_SIGNER_REGISTRY_FAILED:
    "An OCI registry refused or failed a request of `keyward signer sign-image` (the status and URL are in the message), or served a manifest whose digest is not the one asked for.",
} as const;
