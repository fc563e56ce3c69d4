/**
 * A PostgreSQL server that closes the store's idle connections (a restart, a failover,
 * pg_terminate_backend) must not take the replica down: the pool drops those connections and the
 * next operation opens new ones. (Found by scripts/soak.ts: without a pool 'error' listener the
 * event was an uncaught error and every replica exited when the database restarted.)
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { FEATURE_MIGRATIONS } from "../../src/main.ts";
import type { Store } from "../../src/store/contract.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { PG_URL, requirePostgres } from "./postgres.ts";

const tag = `${process.pid}_${Date.now().toString(36)}`;
const schema = `kw_term_${tag}`;
const app = `keyward_term_${tag}`;

describe("PostgreSQL connections closed by the server", () => {
  const admin = new pg.Client({ connectionString: PG_URL });
  let store: Store;
  before(async () => {
    await requirePostgres();
    await admin.connect();
    const url = new URL(PG_URL);
    url.searchParams.set("application_name", app);
    store = await openPostgresStore({
      connectionString: url.toString(),
      schema,
      migrations: FEATURE_MIGRATIONS,
    });
  });
  after(async () => {
    await store?.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  const terminate = () =>
    admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [app]);

  it("keeps serving after every idle connection of the store is terminated", async () => {
    await store.appendAudit({ action: "term.before", outcome: "ok", subject: "test" });
    const killed = await terminate();
    assert.ok(killed.rowCount !== null && killed.rowCount > 0, "the store had connections to close");
    // The pool hears of each closed idle connection on its 'error' event; give it a turn.
    await new Promise((r) => setTimeout(r, 200));
    await store.appendAudit({ action: "term.after", outcome: "ok", subject: "test" });
    const entries = await store.readAudit(1, 10);
    assert.deepEqual(
      entries.map((e) => e.action),
      ["term.before", "term.after"],
    );
  });

  it("fails only the transaction whose connection is terminated mid-way, then goes on", async () => {
    await assert.rejects(
      store.sql.transaction(async (tx) => {
        await tx.run("SELECT 1");
        await terminate();
        await new Promise((r) => setTimeout(r, 200));
        await tx.run("SELECT 1");
      }),
      /terminat|connection error/i,
    );
    await store.appendAudit({ action: "term.after-transaction", outcome: "ok", subject: "test" });
    assert.equal((await store.readAudit(3, 1))[0]?.action, "term.after-transaction");
  });
});
