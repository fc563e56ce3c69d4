/**
 * The audit_log table's rows and the extension of the chain by a batch of events: shared by every
 * store engine and by the SQLite writer thread, so an entry is hashed and stored one way only.
 *
 * Row shape (both engines): seq BIGINT, at TEXT (ISO 8601), action TEXT, outcome TEXT, subject
 * TEXT, policy_id TEXT NULL, detail TEXT NULL (canonical JSON), prev_hash TEXT, hash TEXT (hex).
 *
 * @module
 */
import {
  type AuditEntry,
  type AuditEvent,
  type AuditValue,
  claimsHash,
  entryHash,
  GENESIS_HASH,
} from "./chain.ts";

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

/** Stores a claims record once (a second insert of the same hash is a no-op on both engines). */
export const INSERT_CLAIMS_SQL =
  "INSERT INTO audit_claims (hash, record) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING";

/** A batch of audit items with their claims records taken out: `records` maps each reference to its JSON. */
export interface AddressedBatch<T extends { readonly event: AuditEvent }> {
  readonly items: readonly T[];
  readonly records: ReadonlyMap<string, string>;
}

/**
 * Content-addresses the claims records of `items`: an event whose detail holds `claims` gets
 * `claimsRef` (SHA-256 of the record's canonical JSON) in its place, and the record goes into
 * `records` once. An entry's hash then covers the reference, which covers the record: the chain
 * still covers every claim, and 1 M releases by one workload store its ~6.5 KB record once.
 */
export function addressClaims<T extends { readonly event: AuditEvent }>(
  items: readonly T[],
): AddressedBatch<T> {
  const records = new Map<string, string>();
  const out = items.map((item) => {
    const detail = item.event.detail;
    if (detail === undefined || detail.claims === undefined || detail.claims === null) return item;
    const { claims, ...rest } = detail;
    const ref = claimsHash(claims as AuditValue);
    if (!records.has(ref)) records.set(ref, JSON.stringify(claims));
    return { ...item, event: { ...item.event, detail: { ...rest, claimsRef: ref } } };
  });
  return { items: out, records };
}

/** `SELECT hash, record FROM audit_claims WHERE hash IN (?,…)` for `n` references. */
export function selectClaimsSql(n: number): string {
  return `SELECT hash, record FROM audit_claims WHERE hash IN (${Array.from({ length: n }, () => "?").join(",")})`;
}

/** The distinct claims references of `entries`. */
export function claimsRefsOf(entries: readonly AuditEntry[]): string[] {
  const refs = new Set<string>();
  for (const e of entries) {
    const ref = e.detail?.claimsRef;
    if (typeof ref === "string") refs.add(ref);
  }
  return [...refs];
}

/** `entries` with each referenced claims record attached (`claims`), from `rows` of audit_claims. */
export function withClaims(
  entries: readonly AuditEntry[],
  rows: readonly Readonly<Record<string, unknown>>[],
): AuditEntry[] {
  const byRef = new Map(rows.map((r) => [String(r.hash), String(r.record)]));
  return entries.map((e) => {
    const ref = e.detail?.claimsRef;
    const record = typeof ref === "string" ? byRef.get(ref) : undefined;
    if (record === undefined) return e;
    // A record that is not JSON was edited: keep its text, whose hash then fails the chain's check.
    let claims: AuditValue;
    try {
      claims = JSON.parse(record) as AuditValue;
    } catch {
      claims = record;
    }
    return { ...e, claims };
  });
}
