/**
 * The SQLite audit writer's thread (started by audit-writer.ts): it appends each batch of audit
 * events to the chain in one `BEGIN IMMEDIATE` transaction on its own connection and answers with
 * the entries once COMMIT (synchronous=FULL: fsynced) returned. The service's thread never waits
 * on that fsync.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { KeywardError } from "@keyward/attest/errors";
import type { AuditEntry, AuditEvent } from "../../audit/chain.ts";
import {
  AUDIT_HEAD_SQL,
  addressClaims,
  auditParams,
  extendChain,
  headOf,
  INSERT_CLAIMS_SQL,
  insertAuditSql,
} from "../../audit/rows.ts";
import { storeFaultOf } from "../faults.ts";
import { fileIdentity } from "./file-identity.ts";
import { quietSqliteWarning } from "./quiet-warning.ts";

// Loaded after the warning filter: this thread prints its own warnings.
quietSqliteWarning();
const { DatabaseSync } = await import("node:sqlite");

/** A batch to append: each event with the time it happened. */
export interface AuditBatch {
  readonly id: number;
  readonly items: readonly { readonly event: AuditEvent; readonly at: string }[];
}

export type AuditBatchResult =
  | { readonly id: number; readonly entries: readonly AuditEntry[] }
  | { readonly id: number; readonly error: string; readonly fault?: string };

/** What the thread is started with: the database (opened, never created) and its identity. */
export interface AuditWriterData {
  readonly path: string;
  readonly url: string;
  readonly identity: { readonly dev: number; readonly ino: number } | undefined;
}

const data = workerData as AuditWriterData;
const db = new DatabaseSync(new URL(data.url));
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
const head = db.prepare(AUDIT_HEAD_SQL);
const insert = db.prepare(insertAuditSql(1));
const insertClaims = db.prepare(INSERT_CLAIMS_SQL);

parentPort?.on("message", (batch: AuditBatch) => {
  let result: AuditBatchResult;
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      const addressed = addressClaims(batch.items);
      for (const [ref, record] of addressed.records) insertClaims.run(ref, record);
      const entries = extendChain(headOf(head.get() as Record<string, unknown> | undefined), addressed.items);
      for (const e of entries) insert.run(...auditParams(e));
      // Never acknowledge entries into a database file removed or replaced since the start.
      const now = fileIdentity(data.path);
      if (now === undefined || now.dev !== data.identity?.dev || now.ino !== data.identity.ino)
        throw new KeywardError(
          "ERR_STORE_UNAVAILABLE",
          `the store cannot commit: the database file ${data.path} was removed or replaced`,
        );
      db.exec("COMMIT");
      result = { id: batch.id, entries };
    } catch (e) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw e;
    }
  } catch (e) {
    const fault = storeFaultOf(e);
    result = { id: batch.id, error: (e as Error).message, ...(fault === undefined ? {} : { fault }) };
  }
  parentPort?.postMessage(result);
});
