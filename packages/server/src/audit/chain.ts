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
  /**
   * The caller's claims record, when the entry references one by hash (`detail.claimsRef`): stored
   * once per distinct record (table audit_claims) and read back with the entry. Not part of the
   * entry's hash; its own hash is (through `claimsRef`).
   */
  readonly claims?: AuditValue;
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
  /** Entries checked (all of them when ok; up to and including the broken one otherwise). */
  readonly entries: number;
  /** The hash of the last good entry (the genesis hash when none). */
  readonly head: string;
  readonly brokenAt?: number;
  readonly problem?: string;
}

/**
 * The SHA-256 (hex) of a claims record as an audit entry references it (`detail.claimsRef`):
 * over the record's canonical JSON, so the same record always has the same reference.
 */
export function claimsHash(record: AuditValue): string {
  return createHash("sha256").update(canonicalJson(record)).digest("hex");
}

/**
 * Checks a chain one entry at a time, in constant memory: sequence numbers (1, 2, 3… with no
 * gap), links, hashes, and — for an entry that references its caller's claims record by hash
 * (`detail.claimsRef`) — that the record read with it (`claims`) has that hash. Stops at the
 * first broken entry.
 */
export class ChainVerifier {
  #prev = GENESIS_HASH;
  #count = 0;
  #broken: { readonly at: number; readonly problem: string } | undefined;

  /** Checks the next entry; false once the chain is broken (later entries are not looked at). */
  push(e: AuditEntry): boolean {
    if (this.#broken !== undefined) return false;
    const n = this.#count + 1;
    const problem =
      e.seq !== n
        ? `entry ${n} has sequence number ${e.seq} (deleted or reordered)`
        : e.prevHash !== this.#prev
          ? `entry ${e.seq} does not link to its predecessor`
          : entryHash(e) !== e.hash
            ? `entry ${e.seq} was edited (hash mismatch)`
            : claimsProblem(e);
    this.#count = n;
    if (problem !== undefined) {
      this.#broken = { at: n, problem };
      return false;
    }
    this.#prev = e.hash;
    return true;
  }

  /** The verdict so far. */
  verdict(): ChainVerdict {
    const b = this.#broken;
    return b === undefined
      ? { ok: true, entries: this.#count, head: this.#prev }
      : { ok: false, entries: this.#count, head: this.#prev, brokenAt: b.at, problem: b.problem };
  }
}

function claimsProblem(e: AuditEntry): string | undefined {
  const ref = e.detail?.claimsRef;
  if (typeof ref !== "string") return undefined;
  if (e.claims === undefined) return `entry ${e.seq}'s claims record is missing`;
  if (claimsHash(e.claims) !== ref) return `entry ${e.seq}'s claims record was edited (hash mismatch)`;
  return undefined;
}

/** Checks every entry of `entries` in order ({@link ChainVerifier}). */
export function verifyChain(entries: readonly AuditEntry[]): ChainVerdict {
  const v = new ChainVerifier();
  for (const e of entries) if (!v.push(e)) break;
  return v.verdict();
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
