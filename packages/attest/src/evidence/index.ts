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
