/**
 * Storage (`@keyward/server/store`): the core contract, both engines, portable SQL for features'
 * tables, and migrations.
 *
 * @module
 */
export type { KeyMaterial, SealedSecret, Store, StoredKey, StoredPolicy, StoredSecret } from "./contract.ts";
export type { Migration, MigrationSet } from "./migrations.ts";
export { type DatabaseConfig, openStore } from "./open.ts";
export { openPostgresStore, type PostgresStoreOptions } from "./postgres/engine.ts";
export type { Dialect, Row, Sql, SqlRunner, SqlValue } from "./sql.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite/engine.ts";
