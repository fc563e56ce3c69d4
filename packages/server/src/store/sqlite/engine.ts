/**
 * The SQLite engine: `node:sqlite` (built into Node; no native addon to build against the bundled
 * Node's headers) in WAL mode with `synchronous=FULL`, at `<dataDir>/keyward.db`. Reads and rare
 * writes run on this thread's connection; audit appends of requests go to a writer thread (or are
 * group-committed inline). Every write transaction takes SQLite's write lock (`BEGIN IMMEDIATE`),
 * so the audit chain has one order across connections.
 *
 * @module
 */
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { KeywardError } from "@keyward/attest/errors";
import type { Store } from "../contract.ts";
import { createStore } from "../core-store.ts";
import { storeFaultOf } from "../faults.ts";
import { groupCommitAppender } from "../group-commit.ts";
import { CORE_MIGRATIONS, type MigrationSet, migrate } from "../migrations.ts";
import type { Row, Sql, SqlRunner, SqlValue } from "../sql.ts";
import { AuditWriter } from "./audit-writer.ts";
import { fileIdentity, fileUrl } from "./file-identity.ts";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  readonly path?: string;
  readonly now?: () => Date;
  /**
   * Where audit appends are committed: on a writer thread (default; the caller's thread never waits
   * on fsync) or inline on the caller's thread (group-committed once per event-loop turn).
   */
  readonly auditWriter?: "thread" | "inline";
  /** The features' migrations, applied after the core schema's. */
  readonly migrations?: readonly MigrationSet[];
}

/**
 * Opens the database at `path` as portable {@link Sql}.
 *
 * Faults of the medium are survived without a restart: after a statement fails with a store fault
 * (store/faults.ts: a read-only file, a full disk, an I/O error), the next operation reopens the
 * connection (SQLite keeps a connection that met a read-only file read-only), and only ever the
 * same file: a reopen never creates one (`mode=rw`), and the file must still be the one opened
 * first. Every write transaction checks that before COMMIT, so a database file removed or
 * replaced under a running service fails writes (`ERR_STORE_UNAVAILABLE`) instead of
 * acknowledging them into an unlinked file, and recovers when the file is put back.
 */
export function openSqliteSql(path: string): Sql {
  let db = openConnection(path);
  const identity = fileIdentity(path);
  let stale = false;
  // Prepared once per SQL text: preparing on every request cost more than the query itself.
  const prepared = new Map<string, StatementSync>();
  const stmt = (sql: string): StatementSync => {
    let s = prepared.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      prepared.set(sql, s);
    }
    return s;
  };
  const sameFile = () => {
    const now = fileIdentity(path);
    if (now === undefined || now.dev !== identity?.dev || now.ino !== identity.ino)
      throw new KeywardError(
        "ERR_STORE_UNAVAILABLE",
        `the store cannot commit: the database file ${path} was removed or replaced`,
        { detail: { reason: "removed" } },
      );
  };
  // Before an operation: a connection that met a fault is replaced by a fresh one on the same file.
  const fresh = () => {
    if (!stale) return;
    sameFile();
    const next = openConnection(fileUrl(path));
    prepared.clear();
    db.close();
    db = next;
    stale = false;
  };
  const guarded =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      try {
        return f(...a);
      } catch (e) {
        if (storeFaultOf(e) !== undefined) stale = true;
        throw e;
      }
    };
  const args = (params: readonly SqlValue[]) =>
    params as SqlValue[] as (string | number | bigint | Uint8Array | null)[];
  const direct: SqlRunner = {
    all: async (sql, params = []) => guarded(() => stmt(sql).all(...args(params)) as Row[])(),
    get: async (sql, params = []) => guarded(() => stmt(sql).get(...args(params)) as Row | undefined)(),
    run: async (sql, params = []) => guarded(() => Number(stmt(sql).run(...args(params)).changes))(),
    exec: async (ddl) => guarded(() => db.exec(ddl))(),
    tableExists: async (name) =>
      guarded(
        () =>
          stmt("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined,
      )(),
  };
  // One connection: while a transaction awaits between its statements, other statements wait for
  // it instead of running inside it.
  let busy: Promise<void> | undefined;
  const outside =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      while (busy !== undefined) await busy;
      fresh();
      return f(...a);
    };
  return {
    engine: "sqlite",
    dialect: { bytes: "BLOB" },
    all: outside(direct.all),
    get: outside(direct.get),
    // A statement outside a transaction commits by itself: the file must be the one opened.
    run: outside(async (sql, params) => {
      sameFile();
      return direct.run(sql, params);
    }),
    exec: outside(direct.exec),
    tableExists: outside(direct.tableExists),
    async transaction(f) {
      while (busy !== undefined) await busy;
      let release = () => {};
      busy = new Promise<void>((r) => {
        release = r;
      });
      try {
        fresh();
        guarded(() => db.exec("BEGIN IMMEDIATE"))();
      } catch (e) {
        busy = undefined;
        release();
        throw e;
      }
      try {
        const result = await f(direct);
        sameFile();
        guarded(() => db.exec("COMMIT"))();
        return result;
      } catch (e) {
        // A failed COMMIT may have ended the transaction already.
        if (db.isTransaction) db.exec("ROLLBACK");
        throw e;
      } finally {
        busy = undefined;
        release();
      }
    },
    async close() {
      while (busy !== undefined) await busy;
      db.close();
    },
  };
}

function openConnection(path: string | URL): DatabaseSync {
  const db = new DatabaseSync(path);
  // secure_delete: a replaced or deleted value (a policy document sealed in place) is overwritten
  // with zeros, never left readable in a free part of a page.
  db.exec(
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON;",
  );
  return db;
}

/**
 * The store on SQLite at `<dataDir>/keyward.db` (or `path`), migrated (core, then `migrations`).
 * @throws ERR_SERVICE_CONFIG when a feature's migrations are misnumbered
 */
export async function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const path = options.path ?? join(dataDir, "keyward.db");
  const now = options.now ?? (() => new Date());
  const sql = openSqliteSql(path);
  await migrate(sql, [CORE_MIGRATIONS, ...(options.migrations ?? [])], now);
  if (options.auditWriter === "inline") return createStore(sql, groupCommitAppender(sql, now), { now });
  const writer = new AuditWriter(path);
  return createStore(sql, (event) => writer.append(event, now().toISOString()), {
    now,
    close: () => writer.close(),
  });
}
