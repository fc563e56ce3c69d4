/**
 * The hash-chained audit log: entries, their hashes and chain verification (`@keyward/server/audit`).
 *
 * @module
 */
export {
  type AuditEntry,
  type AuditEvent,
  type AuditValue,
  type ChainVerdict,
  ChainVerifier,
  claimsHash,
  entryHash,
  GENESIS_HASH,
  verifyChain,
} from "./chain.ts";
export {
  AUDIT_PAGE,
  type AuditLogVerdict,
  type AuditSource,
  auditEntries,
  verifyAuditLog,
} from "./stream.ts";
