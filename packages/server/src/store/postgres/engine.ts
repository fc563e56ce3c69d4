/**
 * The PostgreSQL engine (`pg`). Every write transaction first takes one transaction-scoped
 * advisory lock, so replicas sharing the database append to one audit chain (the head read and
 * the insert are serialized) and never assign one version twice; reads run on the pool.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import pg from "pg";
import type { Store } from "../contract.ts";
import { createStore } from "../core-store.ts";
import { groupCommitAppender } from "../group-commit.ts";
import { CORE_MIGRATIONS, type MigrationSet, migrate } from "../migrations.ts";
import { numberPlaceholders, type Row, type Sql, type SqlRunner, type SqlValue } from "../sql.ts";

const WRITE_LOCK = 0x6b657977; // "keyw"

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** A schema to create and use (tests use a unique one per run). */
  readonly schema?: string;
  readonly poolSize?: number;
  readonly now?: () => Date;
  /** The features' migrations, applied after the core schema's. */
  readonly migrations?: readonly MigrationSet[];
}

// pg returns BYTEA as Buffer; the contract is Uint8Array (a Buffer is one, but compares unlike one).
const rowOf = (r: Record<string, unknown>): Row => {
  for (const [k, v] of Object.entries(r)) if (Buffer.isBuffer(v)) r[k] = new Uint8Array(v);
  return r;
};
const paramsOf = (params: readonly SqlValue[]) =>
  params.map((v) =>
    v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v,
  );

function runnerOn(q: pg.Pool | pg.PoolClient): SqlRunner {
  const query = (sql: string, params: readonly SqlValue[] = []) =>
    q.query(numberPlaceholders(sql), paramsOf(params));
  return {
    all: async (sql, params) => (await query(sql, params)).rows.map(rowOf),
    get: async (sql, params) => {
      const r = (await query(sql, params)).rows[0];
      return r === undefined ? undefined : rowOf(r);
    },
    run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
    exec: async (ddl) => {
      await q.query(ddl);
    },
    tableExists: async (name) =>
      (await q.query("SELECT to_regclass($1) IS NOT NULL AS present", [name])).rows[0]?.present === true,
  };
}

/**
 * Opens a pool as portable {@link Sql}.
 * @throws ERR_SERVICE_CONFIG when `schema` is not a plain lower-case identifier
 */
export async function openPostgresSql(options: PostgresStoreOptions): Promise<Sql> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new KeywardError("ERR_SERVICE_CONFIG", "the database schema must be a lower-case identifier");
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client whose server went away emits "error" on the pool: without a listener that would
  // end the process. The fault is reported by the next query that needs the server.
  pool.on("error", () => undefined);
  if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  return {
    engine: "postgres",
    dialect: { bytes: "BYTEA" },
    ...runnerOn(pool),
    async transaction(f) {
      const c = await pool.connect();
      let broken: Error | undefined;
      // A server that goes away while the client is checked out makes it emit "error" (the pool
      // listens only to idle clients): the query in progress fails with the cause instead.
      const lost = (e: Error) => {
        broken = e;
      };
      c.on("error", lost);
      try {
        await c.query("BEGIN");
        await c.query("SELECT pg_advisory_xact_lock($1)", [WRITE_LOCK]);
        const r = await f(runnerOn(c));
        await c.query("COMMIT");
        return r;
      } catch (e) {
        await c.query("ROLLBACK").catch((r: Error) => {
          broken = r; // the connection is gone: never hand it out again
        });
        throw e;
      } finally {
        c.off("error", lost);
        c.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** The store on PostgreSQL, migrated (core, then `migrations`). */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const now = options.now ?? (() => new Date());
  const sql = await openPostgresSql(options);
  await migrate(sql, [CORE_MIGRATIONS, ...(options.migrations ?? [])], now);
  return createStore(sql, groupCommitAppender(sql, now), { now });
}
