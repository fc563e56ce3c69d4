/**
 * Object identifiers X.509 verification needs, each with the document that defines it.
 *
 * @module
 */

/** RFC 5758 §3.2 / RFC 8017 / RFC 8410 signature algorithms we allow. */
export const OID_SIG = {
  ECDSA_SHA256: "1.2.840.10045.4.3.2",
  ECDSA_SHA384: "1.2.840.10045.4.3.3",
  RSA_SHA256: "1.2.840.113549.1.1.11",
  RSA_SHA384: "1.2.840.113549.1.1.12",
  ED25519: "1.3.101.112",
} as const;

/** RFC 5280 §4.2.1 certificate extensions. */
export const OID_EXT = {
  BASIC_CONSTRAINTS: "2.5.29.19",
  KEY_USAGE: "2.5.29.15",
  CRL_NUMBER: "2.5.29.20",
  AUTHORITY_KEY_IDENTIFIER: "2.5.29.35",
} as const;

/** Intel SGX PCK certificate extensions (Intel SGX PCK Certificate and CRL Profile). */
export const OID_SGX = {
  EXTENSIONS: "1.2.840.113741.1.13.1",
  PPID: "1.2.840.113741.1.13.1.1",
  TCB: "1.2.840.113741.1.13.1.2",
  PCEID: "1.2.840.113741.1.13.1.3",
  FMSPC: "1.2.840.113741.1.13.1.4",
  SGX_TYPE: "1.2.840.113741.1.13.1.5",
  PLATFORM_INSTANCE_ID: "1.2.840.113741.1.13.1.6",
  CONFIGURATION: "1.2.840.113741.1.13.1.7",
} as const;

/** X.520 commonName. */
export const OID_COMMON_NAME = "2.5.4.3";

/** X.520 attribute types shown in display names. */
export const NAME_ATTRIBUTES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.5": "serialNumber",
};
