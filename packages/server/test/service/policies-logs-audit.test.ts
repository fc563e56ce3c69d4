import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createPolicySet,
  loadPolicyDir,
  loadPolicyEntries,
  type PolicyEntry,
  watchPolicyDir,
} from "../../src/kernel/policy-set.ts";
import { loadServiceConfig, POLICY_READER } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";

const KEYWARD = fileURLToPath(new URL("../../../cli/bin/keyward.ts", import.meta.url));
const seed = {
  id: "seed",
  mr_enclave: "ab".repeat(32),
  app_token: "t",
  secrets: { master_key: "occlum/1/image_key" },
};

describe("policies from a directory", () => {
  it("loads JSON and YAML, seed format unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), "kw-pol-"));
    writeFileSync(join(dir, "a.json"), JSON.stringify(seed));
    writeFileSync(join(dir, "b.yaml"), `id: other\nmr_enclave: ${"cd".repeat(32)}\nsecrets:\n  k: store/k\n`);
    const p = loadPolicyDir(dir, POLICY_READER);
    assert.deepEqual(
      p.map((x) => x.id),
      ["seed", "other"],
    );
    assert.deepEqual(p[0]?.grants.secrets, { master_key: "occlum/1/image_key" });
  });

  it("says where a file does not parse, never what it says there (it may hold a token)", () => {
    for (const [name, text, where] of [
      [
        "t.json",
        '{"id":"t","app_token": supersecret-token}',
        /^t\.json: not valid JSON( at line 1, column \d+)?$/,
      ],
      [
        "t.yaml",
        'id: t\napp_token: "supersecret-token\nfoo: [',
        /^t\.yaml: not valid YAML: line \d+, column \d+: a closing quote or bracket is missing/,
      ],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), "kw-pol-"));
      writeFileSync(join(dir, name), text);
      assert.throws(
        () => loadPolicyDir(dir, POLICY_READER),
        (e: Error & { code?: string }) =>
          e.code === "ERR_POLICY_INVALID" && where.test(e.message) && !e.message.includes("supersecret"),
      );
    }
  });

  it("names the file and the problem; a bad reload keeps the previous set", () => {
    const dir = mkdtempSync(join(tmpdir(), "kw-pol-"));
    writeFileSync(join(dir, "a.json"), JSON.stringify(seed));
    const errors: unknown[] = [];
    const w = watchPolicyDir(dir, POLICY_READER, { onError: (e) => errors.push(e) });
    writeFileSync(join(dir, "b.json"), "{ not json");
    w.reload();
    w.close();
    assert.equal(w.current().length, 1);
    assert.equal((errors[0] as { code?: string }).code, "ERR_POLICY_INVALID");
    assert.match((errors[0] as Error).message, /b\.json/);
    writeFileSync(join(dir, "b.json"), JSON.stringify(seed));
    assert.throws(() => loadPolicyDir(dir, POLICY_READER), /already defined in a\.json/);
  });
});

describe("policies in force: files and stored policies", () => {
  it("puts files first, ignores a stored policy a file shadows, and says so once", async () => {
    const store = await openSqliteStore(mkdtempSync(join(tmpdir(), "kw-ps-")));
    const audit = { action: "policy.put", outcome: "ok", subject: "admin:test" } as const;
    await store.putPolicy("shared", JSON.stringify({ ...seed, id: "shared" }), audit);
    await store.putPolicy("only-stored", JSON.stringify({ ...seed, id: "only-stored" }), audit);
    let files: PolicyEntry[] = [];
    const errors: string[] = [];
    const set = await createPolicySet(
      { entries: () => files, close: () => undefined },
      store,
      POLICY_READER,
      {
        openDocument: (row) => row.document, // this test's rows are plaintext (no service sealed them)
        onError: (e) => errors.push((e as { code: string }).code),
      },
    );
    assert.deepEqual(
      set.entries().map((e) => `${e.policy.id}@${e.source}`),
      ["only-stored@store", "shared@store"],
    );
    const dir = mkdtempSync(join(tmpdir(), "kw-ps-files-"));
    writeFileSync(join(dir, "shared.json"), JSON.stringify({ ...seed, id: "shared" }));
    files = loadPolicyEntries(dir, POLICY_READER);
    assert.deepEqual(
      set.entries().map((e) => `${e.policy.id}@${e.source}`),
      ["shared@file:shared.json", "only-stored@store"],
    );
    await set.refresh();
    await set.refresh();
    assert.deepEqual(errors, ["ERR_SERVICE_POLICY_CONFLICT"]);
    set.close();
    await store.close();
  });
});

describe("configuration", () => {
  it("takes flags over the environment and rejects bad values", () => {
    const c = loadServiceConfig(
      "/d",
      { listen: "0.0.0.0:9" },
      { KEYWARD_LISTEN: "1.2.3.4:5", KEYWARD_SIMULATION: "1" },
    );
    assert.equal(c.port, 9);
    assert.equal(c.simulation, true);
    assert.equal(c.database.engine, "sqlite");
    assert.throws(() => loadServiceConfig("/d", { listen: "nope" }, {}), { code: "ERR_SERVICE_CONFIG" });
    assert.throws(() => loadServiceConfig("/d", { databaseUrl: "mysql://x" }, {}), {
      code: "ERR_SERVICE_CONFIG",
    });
  });

  it("reads the listeners, hardware-mode and master-key settings", () => {
    const d = loadServiceConfig("/d", {}, {});
    assert.deepEqual(d.adminListen, { host: "127.0.0.1", port: 7444 });
    assert.equal(d.adminListenExplicit, false);
    assert.equal(d.challengeListen, undefined);
    assert.equal(d.pccsUrl, "https://api.trustedservices.intel.com");
    assert.equal(d.attester, "auto");
    assert.equal(d.masterKeyFileExplicit, false);
    const c = loadServiceConfig(
      "/d",
      { adminListen: "[::1]:0", attester: "gramine" },
      {
        KEYWARD_CHALLENGE_LISTEN: "0.0.0.0:7445",
        KEYWARD_PCCS_URL: "https://pccs.internal:8081",
        KEYWARD_MASTER_KEY_FILE: "/k",
      },
    );
    assert.deepEqual(c.adminListen, { host: "::1", port: 0 });
    assert.equal(c.adminListenExplicit, true);
    assert.deepEqual(c.challengeListen, { host: "0.0.0.0", port: 7445 });
    assert.equal(c.pccsUrl, "https://pccs.internal:8081");
    assert.equal(c.attester, "gramine");
    assert.equal(c.masterKeyFile, "/k");
    assert.equal(c.masterKeyFileExplicit, true);
    for (const bad of [
      { attester: "sgx-sdk" },
      { pccsUrl: "ftp://x" },
      { adminListen: "7444" },
      { challengeListen: "h:99999" },
    ])
      assert.throws(
        () => loadServiceConfig("/d", bad, {}),
        { code: "ERR_SERVICE_CONFIG" },
        JSON.stringify(bad),
      );
  });

  it("refuses to start an Admin listener that was asked for without credentials, and hardware mode without a TEE", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kw-cfg-"));
    const { runService } = await import("../../src/main.ts");
    const silent = createLogger(new Writable({ write: (_c, _e, cb) => cb() }));
    await assert.rejects(
      runService(loadServiceConfig(dir, { simulation: true, adminListen: "127.0.0.1:0" }, {}), silent),
      { code: "ERR_SERVICE_CONFIG" },
    );
    // Without configfs-tsm (this machine is no TDX guest) hardware mode has no identity to serve with.
    if (existsSync("/sys/kernel/config/tsm/report")) return;
    await assert.rejects(
      runService(loadServiceConfig(dir, { listen: "127.0.0.1:0", attester: "configfs-tsm" }, {}), silent),
      (e: Error & { code?: string }) => /^ERR_(ATTESTER|ENCLAVE)_/.test(e.code ?? ""),
    );
  });
});

describe("logs", () => {
  it("never contain a secret value, key or token", () => {
    let out = "";
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger(sink);
    log.info(
      {
        value: "SECRET-1",
        appToken: "TOKEN-2",
        grant: { key: "KEY-3", token: "TOKEN-4" },
        subject: "sgx:ab",
      },
      "x",
    );
    assert.match(out, /sgx:ab/);
    for (const s of ["SECRET-1", "TOKEN-2", "KEY-3", "TOKEN-4"]) assert.ok(!out.includes(s), s);
  });
});

describe("keyward audit verify", () => {
  it("exits 0 on an intact chain and 1 after an entry is edited, deleted or reordered", async () => {
    const cases: ((db: DatabaseSync) => void)[] = [
      (db) => db.exec("UPDATE audit_log SET subject = 'x' WHERE seq = 2"),
      (db) => db.exec("DELETE FROM audit_log WHERE seq = 2"),
      (db) =>
        db.exec(
          "UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1",
        ),
    ];
    for (const tamper of [undefined, ...cases]) {
      const dir = mkdtempSync(join(tmpdir(), "kw-audit-"));
      const store = await openSqliteStore(dir);
      for (let i = 0; i < 4; i++) await store.appendAudit({ action: "t", outcome: "ok", subject: `s${i}` });
      await store.close();
      if (tamper !== undefined) {
        const db = new DatabaseSync(join(dir, "keyward.db"));
        tamper(db);
        db.close();
      }
      const r = spawnSync(process.execPath, [KEYWARD, "audit", "verify", "--data-dir", dir], {
        encoding: "utf8",
      });
      assert.equal(r.status, tamper === undefined ? 0 : 1, r.stdout + r.stderr);
    }
  });
});
