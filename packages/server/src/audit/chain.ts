/**
 * The hash-chained audit log. Entry n's hash = SHA-256(prev hash ‖ canonical JSON of entry n
 * without its hash); the first entry's prev hash is 32 zero bytes. Editing, deleting or reordering
 * any entry breaks the chain at that entry.
 *
 * Written by the store engines (store/), in the transaction of the change it records, or group-
 * committed for requests; read back and verified by the Admin service and `keyward audit verify`.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** What is recorded: never a secret value, key or token. */
export interface AuditEvent {
  readonly action: string;
  readonly outcome: "allowed" | "denied" | "error" | "ok";
  /** Who: e.g. `sgx:<mrenclave hex>` or `admin:<cert fingerprint>`. */
  readonly subject: string;
  readonly policyId?: string;
  /** Names only (secret names, key ids, error codes), and the caller's verified claims record. */
  readonly detail?: Readonly<Record<string, AuditValue>>;
}

/** A JSON value in an audit entry's detail. */
export type AuditValue =
  | string
  | number
  | boolean
  | null
  | readonly AuditValue[]
  | { readonly [key: string]: AuditValue };

export interface AuditEntry extends AuditEvent {
  readonly seq: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = "0".repeat(64);

/** The hash of an entry from its fields (its own `hash` excluded). */
export function entryHash(e: Omit<AuditEntry, "hash">): string {
  const body = canonicalJson({
    seq: e.seq,
    at: e.at,
    action: e.action,
    outcome: e.outcome,
    subject: e.subject,
    policyId: e.policyId ?? null,
    detail: e.detail ?? null,
  });
  return createHash("sha256").update(Buffer.from(e.prevHash, "hex")).update(body).digest("hex");
}

/** The result of {@link verifyChain}: the first broken entry, when any. */
export interface ChainVerdict {
  readonly ok: boolean;
  readonly entries: number;
  readonly head: string;
  readonly brokenAt?: number;
  readonly problem?: string;
}

/** Checks sequence numbers (1, 2, 3… with no gap), links and hashes of every entry in order. */
export function verifyChain(entries: readonly AuditEntry[]): ChainVerdict {
  let prev = GENESIS_HASH;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as AuditEntry;
    const bad = (problem: string): ChainVerdict => ({
      ok: false,
      entries: entries.length,
      head: prev,
      brokenAt: i + 1,
      problem,
    });
    if (e.seq !== i + 1) return bad(`entry ${i + 1} has sequence number ${e.seq} (deleted or reordered)`);
    if (e.prevHash !== prev) return bad(`entry ${e.seq} does not link to its predecessor`);
    if (entryHash(e) !== e.hash) return bad(`entry ${e.seq} was edited (hash mismatch)`);
    prev = e.hash;
  }
  return { ok: true, entries: entries.length, head: prev };
}

function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(",")}}`;
}
