/**
 * `keyward serve` as real processes: kill -9 during a stream of acknowledged releases (each
 * acknowledged release has its audit entry), restart, chain intact; two replicas on PostgreSQL with
 * concurrent clients writing one chain.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { initSimPlatform, type SimPlatform } from "@keyward/platform/sim";
import pg from "pg";
import { verifyChain } from "../../src/audit/chain.ts";
import { loadOrCreateKeyFile, sealSecret } from "../../src/kernel/envelope.ts";
import type { Store } from "../../src/store/contract.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { clientAs, hex, mr, spawnServe } from "./helpers.ts";
import { PG_URL, requirePostgres } from "./postgres.ts";

const KEYWARD = fileURLToPath(new URL("../../../cli/bin/keyward.ts", import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

function setup(): { dir: string; platform: SimPlatform } {
  const dir = mkdtempSync(join(tmpdir(), "keyward-serve-"));
  const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "app.json"),
    JSON.stringify({
      id: "app",
      mr_enclave: hex(mr(0xc1)),
      app_token: "tok",
      secrets: { master_key: "occlum/1/image_key" },
      platforms: ["simulated"],
    }),
  );
  return { dir, platform };
}

async function seed(store: Store, dir: string) {
  const key = loadOrCreateKeyFile(join(dir, "master.key"));
  await store.putSecret(
    "occlum/1/image_key",
    (v) => sealSecret(key, "occlum/1/image_key", v, new Uint8Array([1, 2, 3])),
    {
      action: "secret.put",
      outcome: "ok",
      subject: "admin:test",
    },
  );
  await store.close();
}

/** Starts `keyward serve` (killed after the tests) and resolves with its ports. */
async function serve(dir: string, extra: string[] = []) {
  const started = await spawnServe(KEYWARD, dir, extra);
  children.push(started.child);
  return started;
}

describe("keyward serve processes", () => {
  it("loses no acknowledged release when killed with SIGKILL, and the chain verifies after restart", async () => {
    const { dir, platform } = setup();
    await seed(await openSqliteStore(dir), dir);
    const { child, port, opsPort } = await serve(dir, ["--ops-listen", "127.0.0.1:0"]);
    assert.equal((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status, 200);
    const clients = await Promise.all([0, 1, 2, 3].map(() => clientAs(platform, port, 0xc1)));
    let acked = 0;
    let stop = false;
    let metricsText = "";
    const exited = new Promise((r) => child.once("exit", r));
    await Promise.all(
      clients.map(async (c) => {
        while (!stop) {
          try {
            await c.getSecrets({});
            acked++;
            if (acked === 50) metricsText = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
            if (acked === 60) {
              child.kill("SIGKILL");
            }
          } catch {
            stop = true;
          }
        }
      }),
    );
    await exited;
    assert.ok(acked >= 60);
    assert.ok(
      metricsText.includes('keyward_gate_decisions_total{action="secrets.get",outcome="allowed",tee="sgx"}'),
      metricsText,
    );
    const again = await serve(dir);
    again.child.kill("SIGTERM");
    await new Promise((r) => again.child.once("exit", r));
    const store = await openSqliteStore(dir);
    const entries = await store.readAudit();
    await store.close();
    const released = entries.filter((e) => e.action === "secrets.get" && e.outcome === "allowed").length;
    assert.ok(released >= acked, `${released} audited releases < ${acked} acknowledged`);
    assert.equal(verifyChain(entries).ok, true);
    rmSync(dir, { recursive: true, force: true });
  });

  it("two replicas on PostgreSQL keep one intact chain under concurrent clients", async () => {
    await requirePostgres();
    const probe = new pg.Client({ connectionString: PG_URL });
    await probe.connect();
    const schema = `kw_serve_${process.pid}_${randomBytes(4).toString("hex")}`;
    try {
      const { dir, platform } = setup();
      await seed(await openPostgresStore({ connectionString: PG_URL, schema }), dir);
      const db = ["--database-url", PG_URL, "--db-schema", schema];
      const [a, b] = await Promise.all([serve(dir, db), serve(dir, db)]);
      const clients = await Promise.all(
        Array.from({ length: 16 }, (_, i) => clientAs(platform, i % 2 === 0 ? a.port : b.port, 0xc1)),
      );
      const PER = 10;
      await Promise.all(
        clients.map(async (c) => {
          for (let i = 0; i < PER; i++) assert.equal((await c.getSecrets({})).secrets.length, 1);
        }),
      );
      a.child.kill("SIGTERM");
      b.child.kill("SIGTERM");
      const store = await openPostgresStore({ connectionString: PG_URL, schema });
      const entries = await store.readAudit();
      await store.close();
      assert.equal(verifyChain(entries).ok, true);
      assert.equal(entries.filter((e) => e.outcome === "allowed").length, clients.length * PER);
      assert.equal(new Set(entries.map((e) => e.seq)).size, entries.length);
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await probe.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await probe.end();
    }
  });
});
