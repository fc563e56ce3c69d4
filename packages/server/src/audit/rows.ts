/**
 * The audit_log table's rows and the extension of the chain by a batch of events: shared by every
 * store engine and by the SQLite writer thread, so an entry is hashed and stored one way only.
 *
 * Row shape (both engines): seq BIGINT, at TEXT (ISO 8601), action TEXT, outcome TEXT, subject
 * TEXT, policy_id TEXT NULL, detail TEXT NULL (canonical JSON), prev_hash TEXT, hash TEXT (hex).
 *
 * @module
 */
import { type AuditEntry, type AuditEvent, entryHash, GENESIS_HASH } from "./chain.ts";

/** The columns of audit_log, in insert order. */
export const AUDIT_COLUMNS = [
  "seq",
  "at",
  "action",
  "outcome",
  "subject",
  "policy_id",
  "detail",
  "prev_hash",
  "hash",
] as const;

/** `INSERT INTO audit_log (…) VALUES (?,…),(?,…)…` for `rows` entries (`?` placeholders). */
export function insertAuditSql(rows: number): string {
  const one = `(${AUDIT_COLUMNS.map(() => "?").join(",")})`;
  return `INSERT INTO audit_log (${AUDIT_COLUMNS.join(", ")}) VALUES ${Array.from({ length: rows }, () => one).join(",")}`;
}

/** The head of the chain (highest seq), or none. */
export const AUDIT_HEAD_SQL = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

/** The audit_log row of an entry, in {@link AUDIT_COLUMNS} order. */
export function auditParams(e: AuditEntry): (string | number | null)[] {
  return [
    e.seq,
    e.at,
    e.action,
    e.outcome,
    e.subject,
    e.policyId ?? null,
    e.detail === undefined ? null : JSON.stringify(e.detail),
    e.prevHash,
    e.hash,
  ];
}

/** An entry from its row (PostgreSQL returns BIGINT as a string, SQLite as a number). */
export function entryFromRow(r: Readonly<Record<string, unknown>>): AuditEntry {
  return {
    seq: Number(r.seq),
    at: String(r.at),
    action: String(r.action),
    outcome: String(r.outcome) as AuditEntry["outcome"],
    subject: String(r.subject),
    ...(r.policy_id === null || r.policy_id === undefined ? {} : { policyId: String(r.policy_id) }),
    ...(r.detail === null || r.detail === undefined ? {} : { detail: JSON.parse(String(r.detail)) }),
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

/** The head as read by {@link AUDIT_HEAD_SQL} (absent for an empty log). */
export function headOf(r: Readonly<Record<string, unknown>> | undefined): ChainHead | undefined {
  return r === undefined ? undefined : { seq: Number(r.seq), hash: String(r.hash) };
}

/** Where the chain ends. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The entries that extend the chain at `head` with `items`, in order. */
export function extendChain(
  head: ChainHead | undefined,
  items: readonly { readonly event: AuditEvent; readonly at: string }[],
): AuditEntry[] {
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  return items.map(({ event, at }) => {
    const base = { ...event, seq: ++seq, at, prevHash };
    const e: AuditEntry = { ...base, hash: entryHash(base) };
    prevHash = e.hash;
    return e;
  });
}
