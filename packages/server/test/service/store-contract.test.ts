/** The storage contract, run on SQLite and on PostgreSQL (127.0.0.1:5432, db `test`, a unique schema). */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { claimsHash, verifyChain } from "../../src/audit/chain.ts";
import { auditEntries, verifyAuditLog } from "../../src/audit/stream.ts";
import { openSecret, sealSecret } from "../../src/kernel/envelope.ts";
import type { Store } from "../../src/store/contract.ts";
import { CORE_MIGRATIONS, type MigrationSet } from "../../src/store/migrations.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { PG_URL, requirePostgres } from "./postgres.ts";

const key = new Uint8Array(randomBytes(32));
const enc = (s: string) => new TextEncoder().encode(s);
const put = (store: Store, name: string, value: string) =>
  store.putSecret(name, (v) => sealSecret(key, name, v, enc(value)), {
    action: "secret.put",
    outcome: "ok",
    subject: "admin:test",
  });

// Two features each adding their version 1: numbered per owner, they never collide.
const FEATURES: readonly MigrationSet[] = [
  {
    owner: "alpha",
    migrations: [
      {
        version: 1,
        sql: (d) =>
          `CREATE TABLE alpha_devices (id TEXT PRIMARY KEY, secret ${d.bytes} NOT NULL, last_step BIGINT NOT NULL)`,
      },
    ],
  },
  { owner: "beta", migrations: [{ version: 1, sql: () => "CREATE TABLE beta_items (id TEXT PRIMARY KEY)" }] },
];

const engines: {
  name: string;
  open: () => Promise<Store>;
  cleanup: () => Promise<void>;
  require?: () => Promise<void>;
}[] = [];
const sqliteDir = mkdtempSync(join(tmpdir(), "keyward-store-"));
engines.push({
  name: "sqlite",
  open: async () => openSqliteStore(sqliteDir, { migrations: FEATURES }),
  cleanup: async () => undefined,
});
const inlineDir = mkdtempSync(join(tmpdir(), "keyward-store-inline-"));
engines.push({
  name: "sqlite (audit appended inline)",
  open: async () => openSqliteStore(inlineDir, { auditWriter: "inline", migrations: FEATURES }),
  cleanup: async () => undefined,
});
const schema = `kw_test_${process.pid}_${randomBytes(4).toString("hex")}`;
engines.push({
  name: "postgres",
  require: requirePostgres,
  open: () => openPostgresStore({ connectionString: PG_URL, schema, migrations: FEATURES }),
  cleanup: async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  },
});

for (const engine of engines) {
  describe(`store contract: ${engine.name}`, () => {
    let store: Store;
    before(async () => await engine.require?.());
    after(async () => {
      await store?.close();
      await engine.cleanup();
    });

    it("versions secrets, reads newest and given versions, deletes", async () => {
      store = await engine.open();
      assert.equal((await put(store, "a/b", "one")).version, 1);
      assert.equal((await put(store, "a/b", "two")).version, 2);
      const newest = await store.getSecret("a/b");
      assert.ok(newest !== undefined);
      assert.equal(new TextDecoder().decode(openSecret(key, "a/b", newest.version, newest)), "two");
      const v1 = await store.getSecret("a/b", 1);
      assert.ok(v1 !== undefined);
      assert.equal(new TextDecoder().decode(openSecret(key, "a/b", 1, v1)), "one");
      assert.equal(await store.getSecret("missing"), undefined);
      assert.equal(
        await store.deleteSecret("a/b", { action: "secret.delete", outcome: "ok", subject: "admin:test" }),
        true,
      );
      assert.equal(await store.getSecret("a/b"), undefined);
    });

    it("records migrations per owner: the core's and each feature's version 1", async () => {
      const rows = await store.sql.all(
        "SELECT feature, version FROM schema_versions ORDER BY feature, version",
      );
      assert.deepEqual(
        rows.map((r) => `${r.feature}/${Number(r.version)}`),
        ["alpha/1", "beta/1", ...CORE_MIGRATIONS.migrations.map((m) => `core/${m.version}`)],
      );
    });

    it("gives features portable SQL: bytes, rollback, and an atomic accept-only-if-greater", async () => {
      const secret = Uint8Array.of(0, 1, 2, 255);
      await store.sql.run("INSERT INTO alpha_devices (id, secret, last_step) VALUES (?, ?, ?)", [
        "d1",
        secret,
        5,
      ]);
      const row = await store.sql.get("SELECT secret, last_step FROM alpha_devices WHERE id = ?", ["d1"]);
      assert.deepEqual(row?.secret, secret);
      assert.equal(Number(row?.last_step), 5);
      await assert.rejects(
        store.sql.transaction(async (tx) => {
          await tx.run("INSERT INTO beta_items (id) VALUES (?)", ["rolled-back"]);
          throw new Error("abort");
        }),
        /abort/,
      );
      assert.equal(await store.sql.get("SELECT id FROM beta_items WHERE id = ?", ["rolled-back"]), undefined);
      // Two replicas (or requests) presenting the same step at once: exactly one is accepted.
      const accept = (step: number) =>
        store.sql.get("UPDATE alpha_devices SET last_step = ? WHERE id = ? AND last_step < ? RETURNING id", [
          step,
          "d1",
          step,
        ]);
      const same = await Promise.all([accept(6), accept(6), accept(6)]);
      assert.equal(same.filter((r) => r !== undefined).length, 1);
      assert.equal(await accept(4), undefined);
      assert.equal((await accept(7))?.id, "d1");
      // A ? inside a string literal is not a placeholder.
      const quoted = await store.sql.get("SELECT 'a?b' AS text, last_step FROM alpha_devices WHERE id = ?", [
        "d1",
      ]);
      assert.deepEqual([quoted?.text, Number(quoted?.last_step)], ["a?b", 7]);
    });

    it("binds ciphertexts to name and version (a row moved to another version does not open)", async () => {
      const s = await put(store, "c", "x");
      assert.throws(() => openSecret(key, "c", s.version + 1, s), { code: "ERR_SERVICE_SECRET_INTEGRITY" });
      assert.throws(() => openSecret(key, "d", s.version, s), { code: "ERR_SERVICE_SECRET_INTEGRITY" });
    });

    it("versions stored policies, lists the newest live ones, deletes, and audits each change", async () => {
      const audit = { action: "policy.put", outcome: "ok", subject: "admin:test" } as const;
      assert.equal((await store.putPolicy("p1", '{"id":"p1"}', audit)).version, 1);
      assert.equal((await store.putPolicy("p1", '{"id":"p1","minIsvSvn":2}', audit)).version, 2);
      await store.putPolicy("p0", '{"id":"p0"}', audit);
      const listed = await store.listPolicies();
      assert.deepEqual(
        listed.map((p) => [p.id, p.version, p.document]),
        [
          ["p0", 1, '{"id":"p0"}'],
          ["p1", 2, '{"id":"p1","minIsvSvn":2}'],
        ],
      );
      assert.equal(
        await store.deletePolicy("p1", { action: "policy.delete", outcome: "ok", subject: "admin:test" }),
        true,
      );
      assert.equal(
        await store.deletePolicy("p1", { action: "policy.delete", outcome: "ok", subject: "admin:test" }),
        false,
      );
      assert.deepEqual(
        (await store.listPolicies()).map((p) => p.id),
        ["p0"],
      );
      // A policy put again after deletion is live again, at the next version.
      assert.equal((await store.putPolicy("p1", '{"id":"p1"}', audit)).version, 3);
      const changes = (await store.readAudit()).filter((e) => e.action.startsWith("policy."));
      assert.deepEqual(
        changes.map((e) => [e.action, e.policyId]),
        [
          ["policy.put", "p1"],
          ["policy.put", "p1"],
          ["policy.put", "p0"],
          ["policy.delete", "p1"],
          ["policy.delete", "p1"],
          ["policy.put", "p1"],
        ],
      );
    });

    it("reopens with migrations applied once and data kept", async () => {
      await store.close();
      store = await engine.open();
      assert.ok((await store.getSecret("c")) !== undefined);
    });

    it("keeps one chain under concurrent appends", async () => {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.appendAudit({ action: "t", outcome: "ok", subject: `s${i}` }),
        ),
      );
      const entries = await store.readAudit();
      const v = verifyChain(entries);
      assert.equal(v.ok, true, v.problem);
      assert.equal(new Set(entries.map((e) => e.subject).filter((s) => s.startsWith("s"))).size, 40);
    });

    it("keeps one chain when request appends and admin writes interleave", async () => {
      // SQLite: appends go through the writer thread, secrets through this thread's connection;
      // both take the write lock, so neither forks the chain.
      await Promise.all([
        ...Array.from({ length: 60 }, (_, i) =>
          store.appendAudit({ action: "t", outcome: "ok", subject: `m${i}` }),
        ),
        ...Array.from({ length: 5 }, (_, i) => put(store, `mixed/${i}`, "v")),
      ]);
      const entries = await store.readAudit();
      const v = verifyChain(entries);
      assert.equal(v.ok, true, v.problem);
      assert.equal(entries.filter((e) => e.subject.startsWith("m")).length, 60);
      assert.equal(
        entries.filter((e) => e.action === "secret.put" && String(e.detail?.name).startsWith("mixed/"))
          .length,
        5,
      );
    });

    it("detects an edited, a deleted and a reordered entry", async () => {
      const entries = [...(await store.readAudit())];
      assert.ok(entries.length >= 4);
      const edited = entries.map((e, i) => (i === 2 ? { ...e, subject: "someone-else" } : e));
      assert.equal(verifyChain(edited).brokenAt, 3);
      const deleted = entries.filter((_, i) => i !== 1);
      assert.equal(verifyChain(deleted).ok, false);
      const reordered = [...entries];
      [reordered[1], reordered[2]] = [
        reordered[2] as (typeof entries)[number],
        reordered[1] as (typeof entries)[number],
      ];
      assert.equal(verifyChain(reordered).ok, false);
      const truncatedTail = entries.slice(0, -1);
      assert.equal(
        verifyChain(truncatedTail).ok,
        true,
        "a prefix verifies; the head hash is what detects truncation",
      );
    });

    it("stores each distinct claims record once, referenced by hash and covered by the chain", async () => {
      const claims = { tee: "sgx", claims: { mrEnclave: "ab".repeat(32), reportData: "00".repeat(64) } };
      const other = { tee: "sgx", claims: { mrEnclave: "cd".repeat(32), reportData: "00".repeat(64) } };
      const event = (c: typeof claims) => ({
        action: "secrets.get",
        outcome: "allowed" as const,
        subject: "sgx:test",
        detail: { names: ["a"], claims: c },
      });
      const before = Number((await store.sql.get("SELECT COUNT(*) AS n FROM audit_claims"))?.n);
      const appended = await Promise.all([
        store.appendAudit(event(claims)),
        store.appendAudit(event(claims)),
        store.appendAudit(event(other)),
      ]);
      appended.push(await store.appendAudit(event(claims)));
      const after = Number((await store.sql.get("SELECT COUNT(*) AS n FROM audit_claims"))?.n);
      assert.equal(after - before, 2, "two distinct records, four entries");
      const ref = claimsHash(claims);
      for (const e of appended.filter((e) => e.detail?.claimsRef === ref)) {
        const [read] = await store.readAudit(e.seq, 1);
        assert.equal(read?.detail?.claims, undefined, "not embedded in the entry");
        assert.deepEqual(read?.claims, claims, "attached when read");
      }
      assert.equal(appended.filter((e) => e.detail?.claimsRef === ref).length, 3);
      assert.equal((await verifyAuditLog(store)).ok, true);
      // An edit to a stored record is a break at the first entry that references it.
      await store.sql.run("UPDATE audit_claims SET record = ? WHERE hash = ?", [
        JSON.stringify({ ...claims, tee: "tdx" }),
        ref,
      ]);
      const broken = await verifyAuditLog(store);
      assert.equal(broken.ok, false);
      assert.equal(
        broken.brokenAt,
        Math.min(...appended.filter((e) => e.detail?.claimsRef === ref).map((e) => e.seq)),
      );
      assert.match(broken.problem ?? "", /claims record was edited/);
      await store.sql.run("UPDATE audit_claims SET record = ? WHERE hash = ?", ['{"tee": "sgx", trunc', ref]);
      assert.match(
        (await verifyAuditLog(store)).problem ?? "",
        /claims record was edited/,
        "not JSON: edited",
      );
      await store.sql.run("DELETE FROM audit_claims WHERE hash = ?", [ref]);
      assert.match((await verifyAuditLog(store)).problem ?? "", /claims record is missing/);
      await store.sql.run("INSERT INTO audit_claims (hash, record) VALUES (?, ?)", [
        ref,
        JSON.stringify(claims),
      ]);
      assert.equal((await verifyAuditLog(store)).ok, true, "restored");
    });

    it("verifies to the log's head, finds a recorded head, and bounds a page", async () => {
      const head = await store.auditHead();
      assert.ok(head !== undefined);
      const v = await verifyAuditLog(store, { expectHead: head.hash.toUpperCase() });
      assert.deepEqual([v.ok, v.entries, v.head, v.expectedHeadFound], [true, head.seq, head.hash, true]);
      const missing = await verifyAuditLog(store, { expectHead: "11".repeat(32) });
      assert.equal(missing.ok, false);
      assert.equal(missing.expectedHeadFound, false);
      await assert.rejects(store.readAudit(1, 10_001), RangeError);
      let n = 0;
      for await (const e of auditEntries(store, 2, 3)) n += e.seq;
      assert.equal(n, 5, "entries 2 and 3 only");
    });
  });
}

describe("migrations of a database made before they were namespaced", () => {
  it("takes schema_migrations' numbers over as core versions and runs only what is new", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keyward-store-legacy-"));
    const db = new DatabaseSync(join(dir, "keyward.db"));
    db.exec(`CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
      CREATE TABLE secret_versions (name TEXT NOT NULL, version INTEGER NOT NULL, wrapped_key BLOB NOT NULL,
        ciphertext BLOB NOT NULL, created_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (name, version));
      CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL,
        subject TEXT NOT NULL, policy_id TEXT, detail TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      INSERT INTO schema_migrations (id, applied_at) VALUES (1, '2026-01-01T00:00:00.000Z');`);
    db.close();
    const store = await openSqliteStore(dir, { migrations: FEATURES });
    try {
      const rows = await store.sql.all(
        "SELECT feature, version FROM schema_versions ORDER BY feature, version",
      );
      assert.deepEqual(
        rows.map((r) => `${r.feature}/${Number(r.version)}`),
        ["alpha/1", "beta/1", ...CORE_MIGRATIONS.migrations.map((m) => `core/${m.version}`)],
      );
      assert.equal((await put(store, "after-upgrade", "v")).version, 1);
    } finally {
      await store.close();
    }
  });
});
