import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const V = fileURLToPath(new URL("../../attest/test/vectors/", import.meta.url));
const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], { encoding: "utf8" });

describe("keyward ratls", () => {
  it("inspects the three real certificates", () => {
    for (const f of ["gramine-cert.pem", "intel-sgxsdk-cert.pem", "rats-tls-cert.der"]) {
      const r = keyward("ratls", "inspect", `${V}ratls/${f}`, "--json");
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.extension.format, "tcg-dice");
      assert.equal(out.binding.ok, true);
      assert.equal(out.quote.debug, true);
    }
  });

  it("rejects the debug enclave by default and accepts it with --allow-debug (exit statuses of quote verify)", () => {
    const args = [
      "ratls",
      "verify",
      `${V}ratls/gramine-cert.pem`,
      "--collateral",
      `${V}dcap/automata-sgx-v3/collateral.json`,
      "--at",
      "2025-08-15T05:45:00Z",
      "--json",
    ];
    const denied = keyward(...args);
    assert.equal(denied.status, 1);
    assert.deepEqual(
      JSON.parse(denied.stdout).appraisal.failed.map((f: { rule: string }) => f.rule),
      ["debug"],
    );
    const allowed = keyward(...args, "--allow-debug");
    assert.equal(allowed.status, 0, allowed.stdout);
    assert.equal(JSON.parse(allowed.stdout).tcbStatus, "OutOfDate");
    const expired = keyward(
      "ratls",
      "verify",
      `${V}ratls/rats-tls-cert.pem`,
      "--collateral",
      `${V}dcap/automata-sgx-v3/collateral.json`,
      "--at",
      "2025-08-15T05:45:00Z",
      "--allow-debug",
      "--json",
    );
    assert.equal(expired.status, 1);
    assert.equal(JSON.parse(expired.stdout).error.code, "ERR_RATLS_CERT_EXPIRED");
    assert.equal(keyward("ratls", "verify", `${V}ratls/gramine-cert.pem`).status, 2);
  });
});
