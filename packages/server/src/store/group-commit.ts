/**
 * Group commit of audit appends over portable SQL: appends made while a batch is being written
 * (or in the same event-loop turn) go into the next transaction, one multi-row INSERT, one commit;
 * each caller is answered only after its batch committed. Used by PostgreSQL, and by SQLite when
 * appends are made inline (its default is a writer thread: sqlite/audit-writer.ts).
 *
 * @module
 */
import type { AuditEntry, AuditEvent } from "../audit/chain.ts";
import {
  AUDIT_HEAD_SQL,
  addressClaims,
  auditParams,
  extendChain,
  headOf,
  INSERT_CLAIMS_SQL,
  insertAuditSql,
} from "../audit/rows.ts";
import type { Sql, SqlRunner } from "./sql.ts";

/** Appends audit events; resolves each with its entry once committed. */
export type AuditAppender = (event: AuditEvent) => Promise<AuditEntry>;

// SQLite allows 32,766 bound parameters per statement; 9 per entry.
const MAX_BATCH = 1000;

/** Appends `items` to the chain inside `tx` (which holds the write lock). */
export async function appendInTransaction(
  tx: SqlRunner,
  items: readonly { readonly event: AuditEvent; readonly at: string }[],
): Promise<AuditEntry[]> {
  const addressed = addressClaims(items);
  for (const [ref, record] of addressed.records) await tx.run(INSERT_CLAIMS_SQL, [ref, record]);
  const entries = extendChain(headOf(await tx.get(AUDIT_HEAD_SQL)), addressed.items);
  for (let i = 0; i < entries.length; i += MAX_BATCH) {
    const chunk = entries.slice(i, i + MAX_BATCH);
    await tx.run(insertAuditSql(chunk.length), chunk.flatMap(auditParams));
  }
  return entries;
}

/** A group-committing appender over `sql`. */
export function groupCommitAppender(sql: Sql, now: () => Date): AuditAppender {
  let pending: {
    event: AuditEvent;
    at: string;
    resolve: (e: AuditEntry) => void;
    reject: (e: unknown) => void;
  }[] = [];
  let scheduled = false;
  async function flush(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
        const entries = await sql.transaction((tx) => appendInTransaction(tx, batch));
        for (const [i, p] of batch.entries()) p.resolve(entries[i] as AuditEntry);
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    }
    scheduled = false;
  }
  return (event) =>
    new Promise<AuditEntry>((resolve, reject) => {
      pending.push({ event, at: now().toISOString(), resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
}
