import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadServiceConfig } from "../../src/main.ts";

describe("the database URL from a file (a mounted Secret)", () => {
  const dir = mkdtempSync(join(tmpdir(), "keyward-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };

  it("reads it from --database-url-file or KEYWARD_DATABASE_URL_FILE, without the trailing newline", () => {
    const p = file("url", "postgres://keyward:s3cret@db:5432/keyward\n");
    const byFlag = loadServiceConfig("/d", { databaseUrlFile: p }, {}).database;
    assert.deepEqual(byFlag, { engine: "postgres", url: "postgres://keyward:s3cret@db:5432/keyward" });
    assert.deepEqual(loadServiceConfig("/d", {}, { KEYWARD_DATABASE_URL_FILE: p }).database, byFlag);
  });

  it("refuses two sources, a URL that is not postgres://, and an unreadable or oversized file", () => {
    const p = file("url2", "postgres://db/keyward");
    assert.throws(() => loadServiceConfig("/d", { databaseUrlFile: p, databaseUrl: "postgres://x/y" }, {}), {
      code: "ERR_SERVICE_CONFIG",
    });
    assert.throws(
      () => loadServiceConfig("/d", { databaseUrlFile: p }, { KEYWARD_DATABASE_URL: "postgres://x/y" }),
      { code: "ERR_SERVICE_CONFIG" },
    );
    assert.throws(() => loadServiceConfig("/d", { databaseUrlFile: file("mysql", "mysql://db") }, {}), {
      code: "ERR_SERVICE_CONFIG",
    });
    assert.throws(() => loadServiceConfig("/d", { databaseUrlFile: join(dir, "absent") }, {}), {
      code: "ERR_IO",
    });
    assert.throws(
      () => loadServiceConfig("/d", { databaseUrlFile: file("big", `postgres://${"x".repeat(5000)}`) }, {}),
      { code: "ERR_IO" },
    );
    assert.throws(() => loadServiceConfig("/d", { databaseUrlFile: dir }, {}), { code: "ERR_IO" });
  });
});
