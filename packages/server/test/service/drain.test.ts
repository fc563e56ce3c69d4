/**
 * SIGTERM drains `keyward serve` (a real process on SQLite): 1,000 concurrent GetSecrets calls,
 * SIGTERM after the first 100 answers. Every call is answered, or refused with a retryable
 * UNAVAILABLE before any work (no audit entry for it); every acknowledged release is in the audit
 * log, exactly one per answer; the process exits 0 after closing the store. A second run, on
 * PostgreSQL, holds calls in flight (the test takes the replicas' write lock, so their audit
 * appends wait): after SIGTERM /readyz says 503, new calls are refused with
 * ERR_SERVICE_SHUTTING_DOWN, the process waits; once the lock is released the held calls are
 * answered and audited, and it exits 0.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { initSimPlatform } from "@keyward/platform/sim";
import pg from "pg";
import { loadOrCreateKeyFile, sealSecret } from "../../src/kernel/envelope.ts";
import type { Store } from "../../src/store/contract.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { clientAs, hex, mr, spawnServe } from "./helpers.ts";
import { PG_URL, requirePostgres } from "./postgres.ts";

const KEYWARD = fileURLToPath(new URL("../../../cli/bin/keyward.ts", import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function setup(
  flags: readonly string[] = [],
  open: (dir: string) => Promise<Store> = (d) => openSqliteStore(d),
) {
  const dir = mkdtempSync(join(tmpdir(), "keyward-drain-"));
  dirs.push(dir);
  const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "app.json"),
    JSON.stringify({
      id: "app",
      mr_enclave: hex(mr(0xc1)),
      secrets: { master_key: "occlum/1/image_key" },
      platforms: ["simulated"],
    }),
  );
  const store = await open(dir);
  const key = loadOrCreateKeyFile(join(dir, "master.key"));
  await store.putSecret(
    "occlum/1/image_key",
    (v) => sealSecret(key, "occlum/1/image_key", v, new Uint8Array([7])),
    {
      action: "secret.put",
      outcome: "ok",
      subject: "admin:test",
    },
  );
  await store.close();
  const started = await spawnServe(KEYWARD, dir, ["--ops-listen", "127.0.0.1:0", ...flags]);
  children.push(started.child);
  const events: Record<string, unknown>[] = [];
  createInterface({ input: started.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      // not a log line
    }
  });
  const exited = new Promise<number | null>((resolve) => started.child.once("exit", (code) => resolve(code)));
  return { dir, platform, ...started, events, exited };
}

// "ok", or the status and Keyward code of a refusal.
const outcomeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) =>
      e instanceof ConnectError
        ? `${Code[e.code]} ${/^(ERR_[A-Z0-9_]+):/.exec(e.rawMessage)?.[1] ?? e.rawMessage}`
        : `not a ConnectError: ${String(e)}`,
  );

async function waitFor(ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail("the condition did not hold within 10 s");
}

async function releasesAudited(dir: string): Promise<number> {
  const store = await openSqliteStore(dir);
  try {
    const entries = await store.readAudit();
    return entries.filter((e) => e.action === "secrets.get" && e.outcome === "allowed").length;
  } finally {
    await store.close();
  }
}

describe("SIGTERM drains keyward serve", () => {
  it("1,000 concurrent calls, SIGTERM after 100 answers: each answered or UNAVAILABLE before any work; exit 0", async () => {
    const s = await setup();
    const clients = await Promise.all(Array.from({ length: 20 }, () => clientAs(s.platform, s.port, 0xc1)));
    let answered = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        outcomeOf(
          (clients[i % clients.length] ?? assert.fail()).getSecrets({}).then((r) => {
            assert.equal(r.secrets.length, 1);
            if (++answered === 100) s.child.kill("SIGTERM");
          }),
        ),
      ),
    );
    assert.equal(await s.exited, 0);
    const ok = outcomes.filter((o) => o === "ok").length;
    const unavailable = outcomes.filter((o) => o.startsWith("Unavailable")).length;
    assert.equal(ok + unavailable, 1000, [...new Set(outcomes)].join(" | "));
    assert.ok(ok >= 100);
    // Nothing acknowledged is lost, and a refused call did no work: one audited release per answer.
    assert.equal(await releasesAudited(s.dir), ok);
    const stopped = s.events.filter((e) => String(e.event).startsWith("shutdown."));
    assert.ok(
      stopped.every((e) => e.event !== "shutdown.grace.expired"),
      JSON.stringify(stopped),
    );
  });

  it("while calls are in flight (held on PostgreSQL's write lock): /readyz 503, new calls ERR_SERVICE_SHUTTING_DOWN, the held ones answered, exit 0", async () => {
    await requirePostgres();
    const schema = `kw_drain_${process.pid}_${randomBytes(4).toString("hex")}`;
    const s = await setup(["--database-url", PG_URL, "--db-schema", schema, "--shutdown-grace", "60"], () =>
      openPostgresStore({ connectionString: PG_URL, schema }),
    );
    const holder = new pg.Client({ connectionString: PG_URL });
    await holder.connect();
    try {
      const clients = await Promise.all(Array.from({ length: 8 }, () => clientAs(s.platform, s.port, 0xc1)));
      for (const c of clients) assert.equal((await c.getSecrets({})).secrets.length, 1);
      // Every replica's writes (the audit append of a release) wait for this lock while it is held.
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock($1)", [0x6b657977]);
      const held = clients.map((c) => outcomeOf(c.getSecrets({})));
      // All of them admitted and waiting: their audit entries are queued, not committed.
      const queued = async () => {
        const text = await (
          await fetch(`http://127.0.0.1:${s.opsPort}/metrics`, { signal: AbortSignal.timeout(2000) })
        ).text();
        return Number(/^keyward_audit_queue_depth (\d+)/m.exec(text)?.[1] ?? 0) === clients.length;
      };
      await waitFor(queued);
      s.child.kill("SIGTERM");
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${s.opsPort}/readyz`, { signal: AbortSignal.timeout(2000) }))
            .status === 503,
      );
      const late = await Promise.all(clients.map((c) => outcomeOf(c.getSecrets({}))));
      assert.deepEqual(new Set(late), new Set(["Unavailable ERR_SERVICE_SHUTTING_DOWN"]));
      assert.equal(s.child.exitCode, null); // still draining: the held calls are not answered yet
      await holder.query("COMMIT");
      assert.deepEqual(
        await Promise.all(held),
        clients.map(() => "ok"),
      );
      assert.equal(await s.exited, 0);
      assert.ok(s.events.some((e) => e.event === "shutdown.drained"));
      const store = await openPostgresStore({ connectionString: PG_URL, schema });
      const released = (await store.readAudit()).filter(
        (e) => e.action === "secrets.get" && e.outcome === "allowed",
      );
      await store.close();
      assert.equal(released.length, clients.length * 2); // warm-up and held calls; no refused one did work
    } finally {
      await holder.query("ROLLBACK").catch(() => undefined);
      await holder.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await holder.end();
    }
  });
});
