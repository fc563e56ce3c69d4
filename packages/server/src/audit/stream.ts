/**
 * The audit log read as a stream of pages, and verified that way: constant memory whatever the
 * log's length, and always to the head the log had when verification began — a verifier that
 * stops at a page or row limit and reports "intact" is how an edit past that limit goes unseen.
 *
 * @module
 */
import { type AuditEntry, type ChainVerdict, ChainVerifier } from "./chain.ts";
import type { ChainHead } from "./rows.ts";

/** Where entries are read from: a store (store/contract.ts meets this), in pages. */
export interface AuditSource {
  /** At most `limit` entries from `fromSeq` on, in order, with their claims records attached. */
  readAudit(fromSeq: number, limit: number): Promise<readonly AuditEntry[]>;
  /** The last entry's sequence number and hash (undefined for an empty log). */
  auditHead(): Promise<ChainHead | undefined>;
}

/** Entries per page read from the store (memory use is bounded by one page). */
export const AUDIT_PAGE = 1000;

/**
 * Every entry from `fromSeq` up to and including `toSeq` (default: no bound), page by page.
 * Pages are keyed by sequence number, so appends during the read never shift a page.
 */
export async function* auditEntries(
  store: Pick<AuditSource, "readAudit">,
  fromSeq = 1,
  toSeq = Number.MAX_SAFE_INTEGER,
): AsyncGenerator<AuditEntry> {
  let next = fromSeq;
  while (next <= toSeq) {
    const page = await store.readAudit(next, Math.min(AUDIT_PAGE, toSeq - next + 1));
    for (const e of page) {
      if (e.seq > toSeq) return;
      yield e;
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < Math.min(AUDIT_PAGE, toSeq - next + 1)) return;
    next = last.seq + 1;
  }
}

/** The outcome of {@link verifyAuditLog}. */
export interface AuditLogVerdict extends ChainVerdict {
  /** With `expectHead`: whether that hash is an entry of the chain (before the break, if any). */
  readonly expectedHeadFound?: boolean;
}

/**
 * Verifies the whole chain, streaming, to the head the log had when this call began (entries
 * appended meanwhile are left for the next run): every link and hash, each referenced claims
 * record, and that the entries read end exactly at that head (a gap or a cut at the end is a
 * break). `expectHead` (hex): a head recorded earlier that must still be in the chain.
 * `onProgress` hears the entries checked so far, about once per page.
 */
export async function verifyAuditLog(
  store: AuditSource,
  options: {
    readonly expectHead?: string;
    readonly onProgress?: (checked: number, total: number) => void;
  } = {},
): Promise<AuditLogVerdict> {
  const head = await store.auditHead();
  const total = head?.seq ?? 0;
  const expect = options.expectHead?.toLowerCase();
  let found = false;
  const v = new ChainVerifier();
  let checked = 0;
  for await (const e of auditEntries(store, 1, total)) {
    if (!v.push(e)) break;
    if (e.hash === expect) found = true;
    if (++checked % AUDIT_PAGE === 0) options.onProgress?.(checked, total);
  }
  let verdict: ChainVerdict = v.verdict();
  if (verdict.ok && head !== undefined && (verdict.entries !== head.seq || verdict.head !== head.hash))
    verdict = {
      ok: false,
      entries: verdict.entries,
      head: verdict.head,
      brokenAt: verdict.entries + 1,
      problem: `the chain stops at entry ${verdict.entries} but the log's head is entry ${head.seq}`,
    };
  if (expect === undefined) return verdict;
  return verdict.ok && !found
    ? {
        ...verdict,
        ok: false,
        expectedHeadFound: false,
        problem: "the expected head is not in the chain (truncated or replaced)",
      }
    : { ...verdict, expectedHeadFound: found };
}
