/**
 * Vault app tokens in stored policies are envelope-encrypted like secrets: a database written
 * before (plaintext documents, every version and a deleted policy) is sealed when the service
 * starts, a policy put through the Admin listener is stored sealed, and afterwards the raw
 * SQLite file (and its write-ahead log) contains no token. Master-key rotation re-seals them; a
 * document moved to another policy or version, or a plaintext row written into the database, is
 * refused. The policy stays in force with its token.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { initSimPlatform } from "@keyward/platform/sim";
import { connectAdmin } from "../../src/features/admin/client.ts";
import { initAdminCredentials, loadAdminClientCredentials } from "../../src/features/admin/credentials.ts";
import { rotateMasterKey } from "../../src/features/admin/rotation.ts";
import { loadKeyFile } from "../../src/kernel/envelope.ts";
import { isSealedPolicyDocument, openPolicyDocument } from "../../src/kernel/policy-sealing.ts";
import { createPolicySet } from "../../src/kernel/policy-set.ts";
import { FEATURE_MIGRATIONS, loadServiceConfig, POLICY_READER, runService } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { hex, mr } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "keyward-policy-seal-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const silent = createLogger(new Writable({ write: (_c, _e, cb) => cb() }));
const TOKENS = {
  legacyV1: "hvs.CAESILegacyVersionOneToken0000001",
  legacyV2: "hvs.CAESILegacyVersionTwoToken0000002",
  deleted: "hvs.CAESIDeletedPolicyToken000000003",
  fresh: "hvs.CAESIFreshAdminPutToken0000000004",
};
const doc = (id: string, token: string) =>
  JSON.stringify({
    id,
    mr_enclave: hex(mr(0xc1)),
    app_token: token,
    secrets: { db: "occlum/1/image_key" },
    platforms: ["simulated"],
  });
const audit = { action: "policy.put", outcome: "ok", subject: "admin:legacy" } as const;
const open = () => openSqliteStore(dir, { migrations: FEATURE_MIGRATIONS });
const raw = () =>
  Buffer.concat(
    [join(dir, "keyward.db"), join(dir, "keyward.db-wal")].filter(existsSync).map((f) => readFileSync(f)),
  );
const start = () =>
  runService(
    loadServiceConfig(
      dir,
      // A Vault address: stored policies may grant vault: sources only when the service names one
      // (nothing is fetched from it in this test).
      {
        listen: "127.0.0.1:0",
        adminListen: "127.0.0.1:0",
        simulation: true,
        vaultAddr: "http://127.0.0.1:1",
      },
      {},
    ),
    silent,
  );

describe("stored policies are sealed with the master key", () => {
  it("seals a database written before, at start; a policy put later is stored sealed; the file holds no token", async () => {
    initSimPlatform(join(dir, "sim"), { now: new Date() });
    initAdminCredentials(dir);
    // A database as an earlier version left it: plaintext documents.
    const legacy = await open();
    await legacy.putPolicy("legacy", doc("legacy", TOKENS.legacyV1), audit);
    await legacy.putPolicy("legacy", doc("legacy", TOKENS.legacyV2), audit);
    await legacy.putPolicy("gone", doc("gone", TOKENS.deleted), audit);
    await legacy.deletePolicy("gone", { ...audit, action: "policy.delete" });
    await legacy.close();
    assert.notEqual(raw().indexOf(TOKENS.legacyV1), -1); // the premise: in the clear before

    const running = await start();
    try {
      const admin = connectAdmin(loadAdminClientCredentials(dir), {
        host: "127.0.0.1",
        port: running.adminPort ?? 0,
      });
      await admin.putPolicy({ document: doc("fresh", TOKENS.fresh), format: "json" });
      const listed = (await admin.listPolicies({})).policies.map((p) => `${p.id}@${p.source}v${p.version}`);
      assert.deepEqual(listed.sort(), ["fresh@storev1", "legacy@storev2"]);
      const rows = await running.store.listPolicyVersions();
      assert.equal(rows.length, 4);
      assert.ok(rows.every((r) => isSealedPolicyDocument(r.document)));
      const key = loadKeyFile(join(dir, "master.key"));
      const opened = Object.fromEntries(
        rows.map((r) => [`${r.id}@${r.version}`, JSON.parse(openPolicyDocument(key, r))]),
      );
      assert.equal(opened["legacy@1"].app_token, TOKENS.legacyV1);
      assert.equal(opened["legacy@2"].app_token, TOKENS.legacyV2);
      assert.equal(opened["gone@1"].app_token, TOKENS.deleted);
      assert.equal(opened["fresh@1"].app_token, TOKENS.fresh);
      const sealing = (await running.store.readAudit()).filter((e) => e.action === "policy.seal");
      assert.deepEqual(
        sealing.map((e) => e.detail?.policies),
        [3],
      );
    } finally {
      await running.shutdown();
    }
    const bytes = raw();
    for (const [what, token] of Object.entries(TOKENS)) assert.equal(bytes.indexOf(token), -1, what);
    // A second start seals nothing more and serves the same policies.
    const again = await start();
    try {
      const sealing = (await again.store.readAudit()).filter((e) => e.action === "policy.seal");
      assert.equal(sealing.length, 1);
    } finally {
      await again.shutdown();
    }
  });

  it("re-seals every version at master-key rotation; moved and plaintext rows are refused", async () => {
    const store = await open();
    try {
      const oldKey = loadKeyFile(join(dir, "master.key"));
      const newKey = new Uint8Array(32).fill(9);
      const counts = await rotateMasterKey(store, oldKey, newKey, "admin:test");
      assert.equal(counts.policies, 4);
      const rows = await store.listPolicyVersions();
      for (const r of rows) {
        assert.ok(JSON.parse(openPolicyDocument(newKey, r)).app_token.startsWith("hvs."));
        assert.throws(() => openPolicyDocument(oldKey, r), { code: "ERR_SERVICE_SECRET_INTEGRITY" });
      }
      // legacy v1's sealed document copied over fresh v1, and a plaintext row written directly.
      const v1 = rows.find((r) => r.id === "legacy" && r.version === 1)?.document ?? assert.fail("no row");
      await store.sql.run("UPDATE policies SET document = ? WHERE id = 'fresh' AND version = 1", [v1]);
      await store.sql.run("INSERT INTO policies (id, version, document, created_at) VALUES (?, 1, ?, ?)", [
        "injected",
        doc("injected", "hvs.injected"),
        new Date().toISOString(),
      ]);
      const errors: string[] = [];
      const set = await createPolicySet({ entries: () => [], close: () => undefined }, store, POLICY_READER, {
        openDocument: (row) => openPolicyDocument(newKey, row),
        onError: (e) => errors.push(`${(e as { code: string }).code}: ${(e as Error).message}`),
      });
      set.close();
      assert.deepEqual(
        set.entries().map((e) => e.policy.id),
        ["legacy"],
      );
      assert.equal(errors.length, 2, errors.join("\n"));
      assert.ok(
        errors.every((e) => e.startsWith("ERR_SERVICE_SECRET_INTEGRITY")),
        errors.join("\n"),
      );
      assert.ok(
        errors.some((e) => e.includes("injected v1 is not sealed")),
        errors.join("\n"),
      );
    } finally {
      await store.close();
    }
  });
});
