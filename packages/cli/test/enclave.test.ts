import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const example = fileURLToPath(new URL("../../../examples/hello-enclave/app.toml", import.meta.url));
const sigstruct = fileURLToPath(
  new URL("../../attest/test/vectors/sigstruct/auditee-hashmachine.sig", import.meta.url),
);
const data = mkdtempSync(join(tmpdir(), "keyward-cli-enclave-"));
const copies = mkdtempSync(join(fileURLToPath(new URL(".", import.meta.url)), ".tmp-"));
after(() => {
  rmSync(data, { recursive: true, force: true });
  rmSync(copies, { recursive: true, force: true });
});
const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, KEYWARD_DATA_DIR: data },
  });

describe("keyward enclave", () => {
  it("measures, runs, and verifies the measurement of the example app from source", () => {
    assert.equal(keyward("sim", "init").status, 0);
    const m = JSON.parse(keyward("enclave", "measure", "--manifest", example, "--json").stdout);
    assert.match(m.mrEnclave, /^[0-9a-f]{64}$/);
    const quote = join(data, "q.bin");
    const run = keyward("enclave", "run", "--manifest", example, "--", "quote", quote);
    assert.equal(run.status, 0, run.stderr);
    const ok = keyward("enclave", "verify-measurement", "--manifest", example, "--quote", quote, "--json");
    assert.equal(ok.status, 0, ok.stdout);
    assert.equal(JSON.parse(ok.stdout).mrEnclave, m.mrEnclave);
    // The source changed: the quote was not built from it.
    const dir = join(copies, "changed");
    cpSync(join(example, ".."), dir, { recursive: true });
    writeFileSync(join(dir, "lib", "greeting.ts"), 'export const GREETING = "changed";\n');
    const bad = keyward(
      "enclave",
      "verify-measurement",
      "--manifest",
      join(dir, "app.toml"),
      "--quote",
      quote,
      "--json",
    );
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stdout).error.code, "ERR_MEASUREMENT_MISMATCH");
    assert.deepEqual(
      JSON.parse(bad.stdout).mismatched.map((x: { field: string }) => x.field),
      ["mrEnclave"],
    );
  });

  it("passes the app's exit status through, and exits 2 without a manifest", () => {
    assert.equal(keyward("enclave", "run", "--manifest", example, "--", "no-such-mode").status, 1);
    assert.equal(keyward("enclave", "run").status, 2);
  });

  it("reads a SIGSTRUCT, and compares it with a quote", () => {
    const r = keyward("enclave", "sigstruct", sigstruct, "--json");
    assert.equal(r.status, 0);
    assert.equal(
      JSON.parse(r.stdout).mrEnclave,
      "a5ea14ec7fa0036626867a3131260d5d9a70b67e7433c1cf6e567b84fa10a68d",
    );
    const differs = keyward("enclave", "sigstruct", sigstruct, "--quote", join(data, "q.bin"), "--json");
    assert.equal(differs.status, 1);
    assert.deepEqual(JSON.parse(differs.stdout).quote.mismatched, ["mrEnclave", "mrSigner", "isvProdId"]);
    assert.equal(JSON.parse(differs.stdout).error.code, "ERR_MEASUREMENT_MISMATCH");
  });
});
