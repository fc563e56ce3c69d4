import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";

const bin = (name: string) => join("node_modules", ".bin", name);
const run = (command: string, args: string[]) => spawnSync(command, args, { encoding: "utf8" });

describe("repository rules", () => {
  it("keeps the architecture's import rules", () => {
    const r = run(process.execPath, ["tools/check-architecture.ts"]);
    assert.equal(r.status, 0, r.stderr);
  });

  it("keeps docs/errors.md generated from the error catalogue", () => {
    const r = run(process.execPath, ["tools/gen-error-docs.ts", "--check"]);
    assert.equal(r.status, 0, r.stderr);
  });

  it("type-checks under strict settings (tsc -b)", () => {
    const r = run(bin("tsc"), ["-b"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("passes the linter and formatter (biome check)", () => {
    const r = run(bin("biome"), ["check", "."]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
