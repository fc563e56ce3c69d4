export type {
  Platform,
  SgxClaims,
  TcbStatus,
  TdxClaims,
  TeeType,
  VerifiedQuote,
  WorkloadClaims,
} from "./claims.ts";
export { TCB_STATUSES } from "./claims.ts";
export type { ClaimsRecord, RecordValue } from "./claims-record.ts";
export { claimsRecord, verifiedFromRecord } from "./claims-record.ts";
