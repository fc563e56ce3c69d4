export { sgxClaimsOf, tdxClaimsOf } from "./claims.ts";
export type { DcapCollateral, PcsResponses, SignedCollateral } from "./collateral.ts";
export { collateralFromPcs, parseCollateralJson } from "./collateral.ts";
export { INTEL_SGX_ROOT_CA_PEM, INTEL_SGX_ROOT_CA_SHA256 } from "./intel-root.ts";
export type { QeIdentity, QeTcbLevel, QeTcbStatus } from "./qe-identity.ts";
export { parseQeIdentity } from "./qe-identity.ts";
export type { DcapQuote, QuoteBody, QuoteHeader, QuoteSignatureData } from "./quote.ts";
export {
  ATT_KEY_ECDSA_P256,
  dcapQuoteLength,
  INTEL_QE_VENDOR_ID,
  parseDcapQuote,
  TEE_SGX,
  TEE_TDX,
} from "./quote.ts";
export { rawJsonMember } from "./raw-json.ts";
export type { SgxReportBody, TdReportBody } from "./report-body.ts";
export {
  readSgxReportBody,
  readTdReportBody,
  SGX_REPORT_BODY_SIZE,
  TD10_REPORT_BODY_SIZE,
  TD15_REPORT_BODY_SIZE,
} from "./report-body.ts";
export type {
  ModuleTcbLevel,
  ModuleTcbStatus,
  TcbInfo,
  TcbLevel,
  TdxModule,
  TdxModuleIdentity,
} from "./tcb-info.ts";
export { parseTcbInfo } from "./tcb-info.ts";
export type { ModuleLevel, PlatformTcb, TcbGrade } from "./tcb-status.ts";
export { convergeQe, gradePlatform, gradeQe, qeTcbStatusOf } from "./tcb-status.ts";
export type { TrustAnchor } from "./trust-anchor.ts";
export { intelTrustAnchor } from "./trust-anchor.ts";
export type { DcapVerdict, DcapVerifier, DcapVerifierOptions } from "./verify.ts";
export { createDcapVerifier, verifyDcapQuote } from "./verify.ts";
