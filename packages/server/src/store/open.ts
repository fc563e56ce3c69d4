/**
 * Opens the configured engine. Each engine is one folder (`sqlite/`, `postgres/`) loaded only when
 * chosen, so a SQLite deployment never loads the PostgreSQL driver.
 *
 * @module
 */
import type { Store } from "./contract.ts";
import type { MigrationSet } from "./migrations.ts";

/** Which database: SQLite in the data directory, or PostgreSQL. */
export type DatabaseConfig =
  | { readonly engine: "sqlite" }
  | { readonly engine: "postgres"; readonly url: string; readonly schema?: string };

/** The store as configured, with the core schema and `migrations` applied. */
export async function openStore(
  dataDir: string,
  database: DatabaseConfig,
  migrations: readonly MigrationSet[] = [],
): Promise<Store> {
  if (database.engine === "sqlite") {
    const { openSqliteStore } = await import("./sqlite/engine.ts");
    return openSqliteStore(dataDir, { migrations });
  }
  const { openPostgresStore } = await import("./postgres/engine.ts");
  return openPostgresStore({
    connectionString: database.url,
    ...(database.schema === undefined ? {} : { schema: database.schema }),
    migrations,
  });
}
