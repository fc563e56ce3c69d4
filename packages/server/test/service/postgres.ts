/**
 * The PostgreSQL the tests run against: 127.0.0.1:5432, trust auth, database `test` (or
 * `KEYWARD_TEST_PG`). A test of the PostgreSQL engine fails when it cannot reach it, never skips:
 * a skipped engine is an untested engine (`.ci/run` starts the server and waits until it answers).
 */
import pg from "pg";

/** The connection string of the tests' PostgreSQL. */
export const PG_URL = process.env.KEYWARD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Resolves when `url` accepts a connection and answers a query; rejects with a message that says
 * what to start otherwise (the connection error as its cause). Meant for `before()`.
 */
export async function requirePostgres(url: string = PG_URL): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
  } catch (cause) {
    const where = url.replace(/\/\/[^@/]*@/, "//");
    throw new Error(
      `PostgreSQL is not reachable at ${where}: the PostgreSQL tests need it (start it, or set KEYWARD_TEST_PG); they fail rather than skip`,
      { cause },
    );
  } finally {
    await c.end().catch(() => undefined);
  }
}
