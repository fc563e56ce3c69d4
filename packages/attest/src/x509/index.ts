export type { Certificate } from "./certificate.ts";
export {
  certificateToPem,
  findExtension,
  parseCertificate,
  parsePemCertificates,
  readAlgorithm,
} from "./certificate.ts";
export type { ChainOptions, ChainResult } from "./chain.ts";
export { verifyCertificateChain } from "./chain.ts";
export type { Crl } from "./crl.ts";
export { isRevoked, parseCrl, verifyCrl } from "./crl.ts";
export type { DerElement } from "./der.ts";
export { DerReader, TAG } from "./der.ts";
export type { Extension, KeyUsage } from "./extensions.ts";
export { KEY_USAGE_BITS } from "./extensions.ts";
export { nameAttributes, nameToString } from "./name.ts";
export { decodeOid } from "./oid.ts";
export { NAME_ATTRIBUTES, OID_COMMON_NAME, OID_EXT, OID_SGX, OID_SIG } from "./oids.ts";
export type { PckExtensions } from "./pck-extensions.ts";
export { parsePckExtensions } from "./pck-extensions.ts";
export { pemBlocks, toPem } from "./pem.ts";
export { verifySignedBytes } from "./signature.ts";
export type { SignatureCache } from "./signature-cache.ts";
export { createSignatureCache } from "./signature-cache.ts";
