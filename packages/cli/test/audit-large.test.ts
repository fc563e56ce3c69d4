/**
 * `keyward audit verify` and `keyward audit read` on a log larger than any default limit
 * (1,000,050 entries: past the 1,000,000 a former default stopped at): verification streams to the
 * log's real head in bounded memory (the CLI runs with a 160 MB heap, which the whole log does not
 * fit in), finds an edit past the old limit, and a bounded listing says that it stopped early.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { auditParams, extendChain, insertAuditSql } from "../../server/src/audit/rows.ts";
import { openSqliteStore } from "../../server/src/store/sqlite/engine.ts";

const KEYWARD = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const ENTRIES = 1_000_050;
const dir = mkdtempSync(join(tmpdir(), "keyward-audit-large-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function keyward(...args: string[]) {
  const r = spawnSync(process.execPath, ["--max-old-space-size=160", KEYWARD, ...args, "--data-dir", dir], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

let realHead = "";

describe("audit verify and read on a log of 1,000,050 entries", () => {
  before(async () => {
    // The schema as the service makes it, then the entries written straight into the file.
    await (await openSqliteStore(dir)).close();
    const db = new DatabaseSync(join(dir, "keyward.db"));
    const insert = db.prepare(insertAuditSql(100));
    let head: { seq: number; hash: string } | undefined;
    db.exec("BEGIN");
    for (let done = 0; done < ENTRIES; done += 100) {
      const items = Array.from({ length: Math.min(100, ENTRIES - done) }, (_, i) => ({
        event: {
          action: "secrets.get",
          outcome: "allowed" as const,
          subject: `sgx:${(done + i) % 7}`,
          detail: { names: ["apps/db"] },
        },
        at: "2026-11-29T00:00:00.000Z",
      }));
      const entries = extendChain(head, items);
      if (entries.length === 100) insert.run(...entries.flatMap(auditParams));
      else for (const e of entries) db.prepare(insertAuditSql(1)).run(...auditParams(e));
      const last = entries[entries.length - 1] as (typeof entries)[number];
      head = { seq: last.seq, hash: last.hash };
    }
    db.exec("COMMIT");
    db.close();
    realHead = head?.hash ?? "";
  });

  it("verifies every entry to the real head in bounded memory", () => {
    const r = keyward("audit", "verify", "--json");
    assert.equal(r.status, 0, r.err);
    const v = JSON.parse(r.out);
    assert.equal(v.ok, true);
    assert.equal(v.entries, ENTRIES);
    assert.equal(v.head, realHead);
  });

  it("says where a bounded listing stopped", () => {
    const r = keyward("audit", "read", "--from", "999990", "--limit", "20", "--json");
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out.trim().split("\n").length, 20);
    assert.match(r.err, /stopped after 20 entries \(--limit\); more follow: --from 1000010/);
    const tail = keyward("audit", "read", "--from", "1000040", "--json");
    assert.equal(tail.out.trim().split("\n").length, 11);
    assert.doesNotMatch(tail.err, /stopped/);
  });

  it("finds an edit past entry 1,000,000", () => {
    const db = new DatabaseSync(join(dir, "keyward.db"));
    db.prepare("UPDATE audit_log SET subject = 'sgx:attacker' WHERE seq = ?").run(1_000_020);
    db.close();
    const r = keyward("audit", "verify", "--json");
    assert.equal(r.status, 1, r.err);
    const v = JSON.parse(r.out);
    assert.equal(v.error?.code ?? v.code, "ERR_SERVICE_AUDIT_BROKEN");
    assert.match(r.err, /entry 1000020/);
  });
});
