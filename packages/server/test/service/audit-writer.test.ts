/** The SQLite audit writer thread: a thread that cannot write fails its callers, never hangs them. */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AuditWriter } from "../../src/store/sqlite/audit-writer.ts";

describe("audit writer thread", () => {
  it("rejects appends with ERR_STORE_UNAVAILABLE when its database cannot be opened, and again on retry", async () => {
    const w = new AuditWriter(join(mkdtempSync(join(tmpdir(), "keyward-aw-")), "missing", "x.db"));
    const event = { action: "t", outcome: "ok", subject: "s" } as const;
    // A store fault (the file is not there): reported as such, and the thread never creates one.
    await assert.rejects(w.append(event, new Date().toISOString()), { code: "ERR_STORE_UNAVAILABLE" });
    await assert.rejects(w.append(event, new Date().toISOString()), { code: "ERR_STORE_UNAVAILABLE" });
    await w.close();
    await assert.rejects(w.append(event, new Date().toISOString()), { code: "ERR_INTERNAL" });
  });

  it("rejects appends with ERR_INTERNAL when its thread cannot even start, and again on retry", async () => {
    const w = new AuditWriter(join(mkdtempSync(join(tmpdir(), "keyward-aw-")), "x.db"), () => {
      throw new Error("ERR_WORKER_INVALID_EXEC_ARGV"); // what a worker given V8 flags throws
    });
    const event = { action: "t", outcome: "ok", subject: "s" } as const;
    for (let i = 0; i < 2; i++)
      await assert.rejects(w.append(event, new Date().toISOString()), (e: Error & { code?: string }) => {
        assert.equal(e.code, "ERR_INTERNAL");
        assert.match(e.message, /the audit writer thread cannot start/);
        return true;
      });
    await w.close();
  });
});
