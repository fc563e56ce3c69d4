export type { RaTlsEvidence, RaTlsFormat, RaTlsKeyBinding } from "./evidence.ts";
export { checkRaTlsBinding, extractRaTlsEvidence, RA_TLS_FORMATS } from "./evidence.ts";
export {
  CBOR_TAG_INTEL_QUOTE,
  OID_GRAMINE_LEGACY,
  OID_GRAMINE_LEGACY_AS_ENCODED,
  OID_INTEL_SGX_SDK,
  OID_OE_EVIDENCE,
  OID_OE_REPORT,
  OID_TCG_DICE_TAGGED_EVIDENCE,
} from "./oids.ts";
export type { RaTlsVerdict, RaTlsVerifyOptions } from "./verify-peer.ts";
export { verifyRaTlsCertificate } from "./verify-peer.ts";
