export type {
  Platform,
  SgxClaims,
  TcbLevelStatus,
  TcbStatus,
  TdxClaims,
  TeeType,
  VerifiedQuote,
  WorkloadClaims,
} from "./claims.ts";
export { TCB_LEVEL_STATUSES, TCB_STATUSES } from "./claims.ts";
export type { ClaimsRecord, RecordValue } from "./claims-record.ts";
export { claimsRecord, verifiedFromRecord } from "./claims-record.ts";
