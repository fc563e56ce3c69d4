import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], { encoding: "utf8" });

describe("keyward command tree", () => {
  it("exits 2 on an unknown command and lists the commands", () => {
    const r = keyward("no-such-command");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command/);
    assert.match(r.stderr, /explain/);
  });

  it("exits 2 without a command and 0 with --help", () => {
    assert.equal(keyward().status, 2);
    const help = keyward("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /usage: keyward/);
  });

  it("explains an error code, and rejects an unknown one", () => {
    const ok = keyward("explain", "ERR_BYTES_TRUNCATED");
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /^ERR_BYTES_TRUNCATED: /);
    assert.equal(keyward("explain", "ERR_NOPE").status, 2);
  });

  it("runs the demo: real and simulated quotes reach their expected verdicts", () => {
    const r = keyward("demo");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all verdicts as expected/);
    assert.doesNotMatch(r.stdout, /FAIL/);
  });
});
