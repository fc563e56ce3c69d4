/**
 * The SQLite audit writer's thread (started by audit-writer.ts): it appends each batch of audit
 * events to the chain in one `BEGIN IMMEDIATE` transaction on its own connection and answers with
 * the entries once COMMIT (synchronous=FULL: fsynced) returned. The service's thread never waits
 * on that fsync.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { quietSqliteWarning } from "../sqlite-warning.ts";
import { type AuditEntry, type AuditEvent, entryHash, GENESIS_HASH } from "./audit.ts";

// Loaded after the warning filter: this thread prints its own warnings.
quietSqliteWarning();
const { DatabaseSync } = await import("node:sqlite");
const { auditParams, INSERT_AUDIT_SQLITE } = await import("./store.ts");

/** A batch to append: each event with the time it happened. */
export interface AuditBatch {
  readonly id: number;
  readonly items: readonly { readonly event: AuditEvent; readonly at: string }[];
}

export type AuditBatchResult =
  | { readonly id: number; readonly entries: readonly AuditEntry[] }
  | { readonly id: number; readonly error: string };

const db = new DatabaseSync((workerData as { path: string }).path);
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
const head = db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
const insert = db.prepare(INSERT_AUDIT_SQLITE);

parentPort?.on("message", (batch: AuditBatch) => {
  let result: AuditBatchResult;
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      const h = head.get() as { seq: number; hash: string } | undefined;
      let seq = h === undefined ? 0 : Number(h.seq);
      let prevHash = h === undefined ? GENESIS_HASH : h.hash;
      const entries: AuditEntry[] = [];
      for (const { event, at } of batch.items) {
        const base = { ...event, seq: ++seq, at, prevHash };
        const e: AuditEntry = { ...base, hash: entryHash(base) };
        insert.run(...auditParams(e));
        entries.push(e);
        prevHash = e.hash;
      }
      db.exec("COMMIT");
      result = { id: batch.id, entries };
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  } catch (e) {
    result = { id: batch.id, error: (e as Error).message };
  }
  parentPort?.postMessage(result);
});
