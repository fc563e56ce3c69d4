/**
 * Portable SQL: the one way features and the core store talk to a database, on SQLite and on
 * PostgreSQL alike. A feature never writes engine-specific SQL:
 *
 * - placeholders are `?` (the PostgreSQL engine numbers them `$1, $2, …`; a `?` inside a quoted
 *   string literal is left alone);
 * - values are {@link SqlValue}s; bytes go in and come out as `Uint8Array`;
 * - integers read back may be `number` or `string` (PostgreSQL returns BIGINT and aggregates as
 *   text): read them with `Number(row.x)`;
 * - types in DDL: `TEXT`, `INTEGER`, `BIGINT`, and {@link Dialect.bytes} for binary columns;
 *   booleans are `INTEGER` 0/1; times are ISO 8601 `TEXT`;
 * - `INSERT … RETURNING`, `UPDATE … WHERE … RETURNING`, `ON CONFLICT … DO NOTHING/UPDATE` and
 *   `LIMIT` work on both engines (SQLite ≥ 3.35);
 * - {@link Sql.transaction} is a serialized write transaction (SQLite `BEGIN IMMEDIATE`;
 *   PostgreSQL: one transaction-scoped advisory lock shared by every replica), so a read-then-write
 *   inside it is atomic across replicas.
 *
 * @example An atomic "accept only if greater than the last" (an OTP time step), on both engines:
 * ```ts
 * const accepted = await sql.get(
 *   "UPDATE otp_devices SET last_step = ? WHERE id = ? AND last_step < ? RETURNING id",
 *   [step, id, step],
 * );
 * if (accepted === undefined) throw new KeywardError("ERR_OTP_REPLAYED", "…");
 * ```
 *
 * @module
 */

/** A bound parameter. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A result row: column name → value (`Uint8Array` for bytes, `number`/`string` for integers). */
export type Row = Readonly<Record<string, unknown>>;

/** Statements, inside or outside a transaction. */
export interface SqlRunner {
  /** Every row of a query. */
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** The first row of a query, or undefined. */
  get(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs DDL (one or more statements, no parameters): migrations. */
  exec(ddl: string): Promise<void>;
  /** Whether a table exists (in the schema in use). */
  tableExists(name: string): Promise<boolean>;
}

/** A database: statements, serialized write transactions, and DDL for migrations. */
export interface Sql extends SqlRunner {
  readonly engine: "sqlite" | "postgres";
  readonly dialect: Dialect;
  /**
   * Runs `f` in one serialized write transaction: committed when it resolves, rolled back when it
   * throws (the error is rethrown). Keep it short: on PostgreSQL it holds the replicas' write lock.
   */
  transaction<T>(f: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The few words of DDL that differ between engines. */
export interface Dialect {
  /** The binary column type: `BLOB` (SQLite) or `BYTEA` (PostgreSQL). */
  readonly bytes: string;
}

/** Numbers the `?` placeholders of `sql` as `$1, $2, …`, skipping quoted literals and identifiers. */
export function numberPlaceholders(sql: string): string {
  let out = "";
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === "?") out += `$${++n}`;
    else out += ch;
  }
  return out;
}
