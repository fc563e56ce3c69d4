/** Error codes of DER, X.509 certificates, CRLs and PCK extensions. */
export const x509Codes = {
  ERR_DER_MALFORMED:
    "A DER encoding breaks X.690's distinguished rules (length form, tag, nesting, trailing bytes).",
  ERR_X509_MALFORMED: "A certificate does not follow the X.509 v3 structure (RFC 5280 §4.1).",
  ERR_X509_ALGORITHM_UNSUPPORTED: "A signature algorithm or key type outside the allow-list.",
  ERR_X509_SIGNATURE_INVALID: "A certificate's signature does not verify with its issuer's key.",
  ERR_X509_EXPIRED: "A certificate is expired or not yet valid at the verification time.",
  ERR_X509_UNTRUSTED_ROOT: "A certificate chain does not end at a pinned trust anchor.",
  ERR_X509_PATH_INVALID:
    "A certificate chain is not a valid path: names, CA flags, path length or key usage.",
  ERR_X509_REVOKED: "A certificate is listed on its issuer's CRL.",
  ERR_CRL_MALFORMED: "A CRL does not follow the X.509 v2 CRL structure (RFC 5280 §5).",
  ERR_CRL_SIGNATURE_INVALID: "A CRL's signature does not verify with its issuer's key.",
  ERR_CRL_ISSUER_MISMATCH: "A CRL's issuer is not the CA it is used for.",
  ERR_CRL_EXPIRED: "A CRL is outside thisUpdate..nextUpdate at the verification time.",
  ERR_PCK_EXTENSION_MALFORMED: "A PCK certificate's SGX extension is missing or malformed.",
} as const;
