import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { it } from "node:test";

it("keeps the architecture's import rules and the generated error docs", () => {
  for (const script of [["tools/check-architecture.ts"], ["tools/gen-error-docs.ts", "--check"]]) {
    const r = spawnSync(process.execPath, script, { encoding: "utf8" });
    assert.equal(r.status, 0, `${script.join(" ")}: ${r.stderr}`);
  }
});
