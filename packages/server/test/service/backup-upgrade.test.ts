/**
 * Backup, restore and upgrade, on both engines with the real parts (SQLite's backup API;
 * PostgreSQL's pg_dump, pg_restore and psql against the tests' server):
 * - an online backup taken while releases stream in is a consistent copy whose audit chain is a
 *   prefix of the live one; restored into a fresh data directory (or database), the chain
 *   verifies, every secret and key version opens, and a service on it releases the secret;
 * - a database written by the previous release (fixtures/previous-release, made by that release's
 *   own CLI) opens with this one: migrations run forward, the chain and every secret survive;
 * - a database from a newer release is refused with ERR_SERVICE_SCHEMA_NEWER, naming the versions.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isKeywardError } from "@keyward/attest/errors";
import type { SimPlatform } from "@keyward/platform/sim";
import pg from "pg";
import { verifyAuditLog } from "../../src/audit/stream.ts";
import { backupStore, libpqEnvironment, restoreStore } from "../../src/backup.ts";
import { loadKeyFile, openSecret, sealSecret } from "../../src/kernel/envelope.ts";
import { keyMaterial } from "../../src/kernel/keys.ts";
import { FEATURE_MIGRATIONS, loadServiceConfig, openStore, runService } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import type { Store } from "../../src/store/contract.ts";
import { CORE_MIGRATIONS } from "../../src/store/migrations.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { clientAs, hex, mr, seedPolicy, startFixture, startFixtureOn } from "./helpers.ts";
import { PG_URL, requirePostgres } from "./postgres.ts";

/** This release's core schema version (each new core migration raises it). */
const CORE = CORE_MIGRATIONS.migrations.length;

const FIXTURES = fileURLToPath(new URL("../fixtures/previous-release/", import.meta.url));
const PREVIOUS = {
  sqliteHead: "6691bf3877c6766d8c45b15bc2bb8f5c7217ff68e19970ff31d0d0e9b6a5853f",
  postgresHead: "bd74ca375cd176d855ba2b6637e338cf06056e0c0999215158a0a5971de1be1c",
  secrets: {
    "apps/db-password": "prev-release-db-password",
    "apps/api-key": "prev-release-api-key-v2",
  } as Record<string, string>,
};
const APP = 0x50;
const dirs: string[] = [];
const scratch = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `keyward-${name}-`));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Releases in a loop until `stop` resolves; returns how many were answered. */
async function releasesUntil(
  client: Awaited<ReturnType<typeof clientAs>>,
  stop: Promise<unknown>,
): Promise<number> {
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  let n = 0;
  while (!done) {
    await client.getSecrets({});
    n++;
  }
  return n;
}

/**
 * `keyward serve` as composed at start (runService) on `config`'s store and data directory (its
 * master key already there), with the simulated platform of `from` and a policy file granting APP
 * the secret: APP gets it.
 */
async function servesTheSecret(
  config: ReturnType<typeof loadServiceConfig>,
  from: string,
  platform: SimPlatform,
) {
  cpSync(join(from, "sim"), join(config.dataDir, "sim"), { recursive: true });
  mkdirSync(join(config.dataDir, "policies"), { recursive: true });
  writeFileSync(
    join(config.dataDir, "policies", "app.json"),
    JSON.stringify({
      id: "app",
      mr_enclave: hex(mr(APP)),
      secrets: { master_key: "occlum/1/image_key" },
      platforms: ["simulated"],
    }),
  );
  const running = await runService(
    loadServiceConfig(
      config.dataDir,
      {
        simulation: true,
        listen: "127.0.0.1:0",
        ...(config.database.engine === "postgres"
          ? {
              databaseUrl: config.database.url,
              ...(config.database.schema === undefined ? {} : { dbSchema: config.database.schema }),
            }
          : {}),
      },
      {},
    ),
    createLogger(new Writable({ write: (_c, _e, cb) => cb() })),
  );
  try {
    const client = await clientAs(platform, running.port, APP);
    const r = await client.getSecrets({});
    assert.equal(
      new TextDecoder().decode(r.secrets.find((x) => x.name === "master_key")?.value),
      "s3cr3t-image-key",
    );
  } finally {
    await running.shutdown();
  }
}

async function readable(store: Store, masterKey: Uint8Array, name: string): Promise<string> {
  const s = await store.getSecret(name);
  assert.ok(s !== undefined, name);
  return new TextDecoder().decode(openSecret(masterKey, s.name, s.version, s));
}

describe("SQLite: online backup while serving, restore into a fresh service", () => {
  it("copies a consistent state during a stream of releases; the restore verifies and serves", async () => {
    const fx = await startFixture([seedPolicy("app", APP)]);
    dirs.push(fx.dir);
    const client = await clientAs(fx.platform, fx.service.port, APP);
    const config = loadServiceConfig(fx.dir, { simulation: true }, {});
    const out = join(scratch("backup"), "keyward.db");
    // Backups taken while releases (each appending an audit entry) keep arriving.
    const taking = (async () => {
      await client.getSecrets({});
      const first = await backupStore(config, out);
      const second = await backupStore(config, `${out}.2`);
      return [first, second] as const;
    })();
    const answered = await releasesUntil(client, taking);
    const [first, second] = await taking;
    assert.ok(answered > 0);
    assert.equal(first.engine, "sqlite");
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.ok(second.audit.entries >= first.audit.entries);
    // The copy's chain is a prefix of the live one: its head is the live chain's entry at that seq.
    const live = await fx.store.readAudit(first.audit.entries, 1);
    assert.equal(live[0]?.hash, first.audit.head);
    await assert.rejects(backupStore(config, out), (e) => isKeywardError(e, "ERR_SERVICE_BACKUP"));
    await fx.service.close();

    // Restore into a fresh data directory with the master key kept apart.
    const fresh = scratch("restored");
    copyFileSync(join(fx.dir, "master.key"), join(fresh, "master.key"));
    const target = loadServiceConfig(fresh, { simulation: true }, {});
    const report = await restoreStore(target, out);
    assert.deepEqual(report.audit, first.audit);
    assert.equal(report.secretVersions, 1);
    assert.ok((report.schemaVersions.core ?? 0) >= 4);
    await assert.rejects(restoreStore(target, out), (e) => isKeywardError(e, "ERR_SERVICE_BACKUP"));

    // A service on the restored store releases the secret and extends the restored chain.
    await servesTheSecret(target, fx.dir, fx.platform);
    const store = await openStore(target);
    try {
      const v = await verifyAuditLog(store);
      assert.ok(v.ok, v.problem);
      assert.ok(v.entries > first.audit.entries, "the restored chain goes on");
    } finally {
      await store.close();
    }
  });

  it("refuses a file that is not a backup, and a missing master key", async () => {
    const fresh = scratch("bad-restore");
    const junk = join(fresh, "junk.db");
    spawnSync("sh", ["-c", `head -c 4096 /dev/urandom > ${junk}`]);
    copyFileSync(join(FIXTURES, "master.key"), join(fresh, "master.key"));
    const target = loadServiceConfig(
      join(fresh, "data"),
      { simulation: true, masterKeyFile: join(fresh, "master.key") },
      {},
    );
    await assert.rejects(restoreStore(target, junk), (e) => isKeywardError(e, "ERR_SERVICE_BACKUP"));
    assert.ok(!existsSync(join(fresh, "data", "keyward.db")), "nothing half-restored is left");
    const noKey = loadServiceConfig(join(fresh, "d2"), { simulation: true }, {});
    await assert.rejects(restoreStore(noKey, junk), (e) => isKeywardError(e, "ERR_SERVICE_MASTER_KEY"));
  });
});

describe("upgrade from the previous release's database", () => {
  function previousSqlite(): { dir: string; config: ReturnType<typeof loadServiceConfig> } {
    const dir = scratch("previous");
    const db = new DatabaseSync(join(dir, "keyward.db"));
    db.exec(readFileSync(join(FIXTURES, "sqlite.sql"), "utf8"));
    db.close();
    copyFileSync(join(FIXTURES, "master.key"), join(dir, "master.key"));
    return { dir, config: loadServiceConfig(dir, { simulation: true }, {}) };
  }

  async function checkUpgraded(store: Store, head: string, masterKey: Uint8Array) {
    const versions = await store.sql.all(
      "SELECT feature, MAX(version) AS v FROM schema_versions GROUP BY feature",
    );
    const byOwner = Object.fromEntries(versions.map((r) => [String(r.feature), Number(r.v)]));
    assert.equal(byOwner.core, CORE, `the core schema migrated forward to version ${CORE}`);
    for (const f of FEATURE_MIGRATIONS) assert.equal(byOwner[f.owner], f.migrations.length, f.owner);
    const v = await verifyAuditLog(store);
    assert.ok(v.ok, v.problem);
    assert.equal(v.entries, 8);
    assert.equal(v.head, head, "the chain the previous release wrote is intact");
    for (const [name, value] of Object.entries(PREVIOUS.secrets))
      assert.equal(await readable(store, masterKey, name), value);
    assert.equal(await store.getSecret("apps/old"), undefined, "a deleted secret stays deleted");
    const keys = await store.listKeyVersions();
    assert.deepEqual(
      keys.map((k) => [k.keyId, k.algorithm]),
      [
        ["signing", "P-256"],
        ["wrapping", "AES-256-GCM"],
      ],
    );
    for (const k of keys) keyMaterial(masterKey, k).fill(0);
    assert.deepEqual(
      (await store.listPolicies()).map((p) => p.id),
      ["app"],
    );
    // And it takes new writes on the upgraded chain.
    await store.appendAudit({ action: "upgrade.test", outcome: "ok", subject: "admin:test" });
    assert.ok((await verifyAuditLog(store)).ok);
  }

  it("SQLite: migrations run forward; the chain, every secret, key and policy survive", async () => {
    const { dir, config } = previousSqlite();
    const store = await openStore(config);
    try {
      await checkUpgraded(store, PREVIOUS.sqliteHead, loadKeyFile(join(dir, "master.key")));
    } finally {
      await store.close();
    }
  });

  it("SQLite: a backup of the previous release restores into this one (upgraded on restore)", async () => {
    const { dir } = previousSqlite();
    const fresh = scratch("previous-restored");
    copyFileSync(join(dir, "master.key"), join(fresh, "master.key"));
    const report = await restoreStore(
      loadServiceConfig(fresh, { simulation: true }, {}),
      join(dir, "keyward.db"),
    );
    assert.deepEqual(report.audit, { entries: 8, head: PREVIOUS.sqliteHead });
    assert.equal(report.secretVersions, 4, "every version, the deleted one included, opens");
    assert.equal(report.keyVersions, 2);
    assert.equal(report.schemaVersions.core, CORE);
  });

  it("SQLite: a database from a newer release is refused, naming both versions", async () => {
    const { config } = previousSqlite();
    (await openStore(config)).close();
    const db = new DatabaseSync(join(config.dataDir, "keyward.db"));
    db.exec(
      `INSERT INTO schema_versions (feature, version, applied_at) VALUES ('core', ${CORE + 1}, '2031-01-01T00:00:00Z')`,
    );
    db.close();
    await assert.rejects(openStore(config), (e: unknown) => {
      assert.ok(isKeywardError(e, "ERR_SERVICE_SCHEMA_NEWER"), String(e));
      assert.match(
        (e as Error).message,
        new RegExp(
          `newer Keyward: its core schema is at version ${CORE + 1}, this release knows up to ${CORE}`,
        ),
      );
      return true;
    });
    // Nothing was changed by the refusal.
    const after = new DatabaseSync(join(config.dataDir, "keyward.db"));
    assert.equal(
      (
        after.prepare("SELECT MAX(version) AS v FROM schema_versions WHERE feature = 'core'").get() as {
          v: number;
        }
      ).v,
      CORE + 1,
    );
    after.close();
  });
});

describe("PostgreSQL: pg_dump while serving, pg_restore into a fresh database, upgrade", () => {
  const tag = `${process.pid}_${Date.now().toString(36)}`;
  const schema = `kw_backup_${tag}`;
  const restoredDb = `kw_restored_${tag}`;
  const previousSchema = `kw_prev_${tag}`;
  const publicSource = `kw_pubsrc_${tag}`;
  const publicTarget = `kw_pubdst_${tag}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  const urlOf = (db: string) => {
    const u = new URL(PG_URL);
    u.pathname = `/${db}`;
    return u.toString();
  };
  before(async () => {
    await requirePostgres();
    await admin.connect();
  });
  after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS ${previousSchema} CASCADE`);
    await admin.query(`DROP DATABASE IF EXISTS ${restoredDb} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${publicSource} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${publicTarget} WITH (FORCE)`);
    await admin.end();
  });

  it("dumps while releases stream in; restores, verifies and serves from a fresh database", async () => {
    const fx = await startFixtureOn([seedPolicy("app", APP)], () =>
      openPostgresStore({ connectionString: PG_URL, schema, migrations: FEATURE_MIGRATIONS }),
    );
    dirs.push(fx.dir);
    const client = await clientAs(fx.platform, fx.service.port, APP);
    const config = loadServiceConfig(fx.dir, { simulation: true, databaseUrl: PG_URL, dbSchema: schema }, {});
    const out = join(scratch("pg-backup"), "keyward.dump");
    const taking = (async () => {
      await client.getSecrets({});
      return backupStore(config, out);
    })();
    const answered = await releasesUntil(client, taking);
    const report = await taking;
    assert.ok(answered > 0);
    assert.equal(report.engine, "postgres");
    assert.equal(report.schema, schema);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    await fx.service.close();

    await admin.query(`CREATE DATABASE ${restoredDb}`);
    const target = loadServiceConfig(
      fx.dir,
      { simulation: true, databaseUrl: urlOf(restoredDb), dbSchema: schema },
      {},
    );
    const restored = await restoreStore(target, out);
    // The dump is one snapshot taken after the releases that preceded it: at least those entries.
    assert.ok(restored.audit.entries >= 2);
    assert.equal(restored.secretVersions, 1);
    await assert.rejects(restoreStore(target, out), (e) => isKeywardError(e, "ERR_SERVICE_BACKUP"));
    const wrongSchema = loadServiceConfig(
      fx.dir,
      { simulation: true, databaseUrl: urlOf(restoredDb), dbSchema: "elsewhere" },
      {},
    );
    await assert.rejects(restoreStore(wrongSchema, out), (e: unknown) => {
      assert.ok(isKeywardError(e, "ERR_SERVICE_BACKUP"));
      assert.match((e as Error).message, new RegExp(`holds schema ${schema}`));
      return true;
    });

    const fresh = scratch("pg-restored");
    copyFileSync(join(fx.dir, "master.key"), join(fresh, "master.key"));
    await servesTheSecret(
      loadServiceConfig(fresh, { simulation: true, databaseUrl: urlOf(restoredDb), dbSchema: schema }, {}),
      fx.dir,
      fx.platform,
    );
  });

  it("backs up and restores a database whose tables live in public (the manifests' default)", async () => {
    await admin.query(`CREATE DATABASE ${publicSource}`);
    await admin.query(`CREATE DATABASE ${publicTarget}`);
    const dir = scratch("pg-public");
    copyFileSync(join(FIXTURES, "master.key"), join(dir, "master.key"));
    const source = loadServiceConfig(dir, { simulation: true, databaseUrl: urlOf(publicSource) }, {});
    const store = await openStore(source);
    const masterKey = loadKeyFile(join(dir, "master.key"));
    await store.putSecret(
      "apps/p",
      (v) => sealSecret(masterKey, "apps/p", v, new TextEncoder().encode("in-public")),
      {
        action: "secret.put",
        outcome: "ok",
        subject: "admin:test",
      },
    );
    await store.close();
    const out = join(dir, "public.dump");
    assert.equal((await backupStore(source, out)).schema, "public");
    const target = loadServiceConfig(dir, { simulation: true, databaseUrl: urlOf(publicTarget) }, {});
    const report = await restoreStore(target, out);
    assert.equal(report.audit.entries, 1);
    assert.equal(report.secretVersions, 1);
    const restored = await openStore(target);
    try {
      assert.equal(await readable(restored, masterKey, "apps/p"), "in-public");
    } finally {
      await restored.close();
    }
  });

  it("opens the previous release's PostgreSQL schema with migrations forward", async () => {
    const sql = readFileSync(join(FIXTURES, "postgres.sql"), "utf8").replaceAll(
      "kw_prev_fixture",
      previousSchema,
    );
    const r = spawnSync("psql", ["--no-psqlrc", "--set=ON_ERROR_STOP=1", "--quiet", "--file=-"], {
      input: sql,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...libpqEnvironment(PG_URL) },
    });
    assert.equal(r.status, 0, r.stderr);
    const store = await openPostgresStore({
      connectionString: PG_URL,
      schema: previousSchema,
      migrations: FEATURE_MIGRATIONS,
    });
    try {
      const masterKey = new Uint8Array(readFileSync(join(FIXTURES, "master.key")));
      const v = await verifyAuditLog(store);
      assert.ok(v.ok, v.problem);
      assert.deepEqual([v.entries, v.head], [8, PREVIOUS.postgresHead]);
      for (const [name, value] of Object.entries(PREVIOUS.secrets))
        assert.equal(await readable(store, masterKey, name), value);
      const core = await store.sql.get(
        "SELECT MAX(version) AS v FROM schema_versions WHERE feature = 'core'",
      );
      assert.equal(Number(core?.v), CORE);
    } finally {
      await store.close();
    }
  });
});
