/**
 * The PostgreSQL tests fail, never skip, when the server is not there: requirePostgres rejects
 * with a message that says so, and no test of the PostgreSQL engine carries a skip.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { requirePostgres } from "./postgres.ts";

describe("PostgreSQL in the tests", () => {
  it("rejects with a clear message when nothing answers at the address", async () => {
    // A port that was free a moment ago: nothing listens on it now.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await assert.rejects(requirePostgres(`postgres://postgres:pw@127.0.0.1:${port}/test`), (e: Error) => {
      assert.match(e.message, /PostgreSQL is not reachable at postgres:\/\/127\.0\.0\.1:\d+\/test/);
      assert.match(e.message, /fail rather than skip/);
      assert.doesNotMatch(e.message, /pw/); // no password in a test report
      return true;
    });
  });

  it("is reachable here (the tests' engine is never silently untested)", async () => {
    await requirePostgres();
  });

  it("no test of the PostgreSQL engine skips", () => {
    const dir = fileURLToPath(new URL(".", import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith(".test.ts") && f !== "postgres.test.ts");
    const pgTests = files.filter((f) => readFileSync(`${dir}/${f}`, "utf8").includes("openPostgresStore"));
    assert.ok(pgTests.length >= 3, pgTests.join(", "));
    for (const f of pgTests) {
      const text = readFileSync(`${dir}/${f}`, "utf8");
      assert.doesNotMatch(text, /\bskip\b|\.skip\(/, f);
    }
  });
});
