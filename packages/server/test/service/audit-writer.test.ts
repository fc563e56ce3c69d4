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
});
