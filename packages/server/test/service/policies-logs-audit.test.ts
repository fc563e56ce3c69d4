import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  loadPolicyDir,
  loadServiceConfig,
  openSqliteStore,
  watchPolicyDir,
} from "@keyward/server/service";

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
    const p = loadPolicyDir(dir);
    assert.deepEqual(
      p.map((x) => x.id),
      ["seed", "other"],
    );
    assert.deepEqual(p[0]?.secrets, { master_key: "occlum/1/image_key" });
  });

  it("names the file and the problem; a bad reload keeps the previous set", () => {
    const dir = mkdtempSync(join(tmpdir(), "kw-pol-"));
    writeFileSync(join(dir, "a.json"), JSON.stringify(seed));
    const errors: unknown[] = [];
    const w = watchPolicyDir(dir, { onError: (e) => errors.push(e) });
    writeFileSync(join(dir, "b.json"), "{ not json");
    w.reload();
    w.close();
    assert.equal(w.current().length, 1);
    assert.equal((errors[0] as { code?: string }).code, "ERR_SERVICE_CONFIG");
    assert.match((errors[0] as Error).message, /b\.json/);
    writeFileSync(join(dir, "b.json"), JSON.stringify(seed));
    assert.throws(() => loadPolicyDir(dir), /already defined in a\.json/);
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
      const store = openSqliteStore(dir);
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
