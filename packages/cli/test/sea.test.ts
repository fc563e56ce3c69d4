/**
 * The `keyward` single executable (scripts/build-sea.ts): built here, then run as a user would run
 * it — from an empty directory outside the repository, with a minimal environment, so nothing it
 * needs can come from the repository's files or node_modules.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RUN_MODULE_ARG } from "@keyward/platform/runtime";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const vectors = join(root, "packages/attest/test/vectors/dcap");
const exe = join(root, "dist", "sea", "keyward");
let cwd = "";

/** Runs the executable from an empty temporary directory (also its TMPDIR). */
const sea = (...args: string[]) =>
  spawnSync(exe, args, {
    cwd,
    encoding: "utf8",
    env: { PATH: "/usr/bin:/bin", TMPDIR: cwd },
    timeout: 120_000,
  });
const fromSources = (...args: string[]) =>
  spawnSync(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", join(root, "packages/cli/bin/keyward.ts"), ...args],
    {
      encoding: "utf8",
    },
  );

describe("keyward as a single executable", { timeout: 600_000 }, () => {
  before(() => {
    const r = spawnSync(process.execPath, [join(root, "scripts/build-sea.ts"), "keyward"], {
      cwd: root,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(statSync(exe).mode & 0o100, "the executable is executable");
    cwd = mkdtempSync(join(tmpdir(), "keyward-sea-test-"));
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it("prints its command tree with --help, with no SEA or SQLite warning", () => {
    const r = sea("--help");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /usage: keyward/);
    assert.match(r.stdout, /quote verify/);
    assert.equal(r.stderr, "");
  });

  it("verifies a bundled real quote with its collateral, as the sources do", () => {
    const dir = join(vectors, "phala-sgx-v3");
    const args = ["quote", "verify", join(dir, "quote.bin"), "--collateral", join(dir, "collateral.json")];
    const at = ["--at", "2025-07-01T00:00:00Z", "--json"];
    const r = sea(...args, ...at);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const verdict = JSON.parse(r.stdout) as { tcbStatus: string };
    assert.equal(verdict.tcbStatus, "ConfigurationAndSWHardeningNeeded");
    assert.deepEqual(verdict, JSON.parse(fromSources(...args, ...at).stdout));
    // And refuses the same quote once its collateral has expired (exit 1, a code).
    const late = sea(...args, "--at", "2030-01-01T00:00:00Z", "--json");
    assert.equal(late.status, 1, late.stdout + late.stderr);
    assert.match(late.stdout, /"code": ?"ERR_/);
  });

  it("passes `keyward demo`: real quotes, the service, its audit thread and the example enclave app", () => {
    const r = sea("demo");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all verdicts as expected/);
    assert.match(r.stdout, /example app received its secret/);
    assert.match(r.stdout, /modified copy of the app refused: ERR_SERVICE_DENIED/);
    assert.match(r.stdout, /took the challenge path/);
    assert.match(r.stdout, /KBS guest received default\/demo\/image-key/);
    assert.match(r.stdout, /a TD with another MRTD refused/);
    assert.match(r.stdout, /audit chain verifies: 6 entries/);
    assert.doesNotMatch(r.stdout, /FAIL/);
    assert.doesNotMatch(r.stderr, /ExperimentalWarning/);
    assert.deepEqual(readdirSync(cwd), [], "the extracted quotes and app are removed");
  });

  it("passes `keyward demo signing`: the gateway enclave app extracted and run, the device registry, both attacks", () => {
    const r = sea("demo", "signing");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all verdicts as expected/);
    assert.match(
      r.stdout,
      /attack, key swapped in the bundle: registration refused \(ERR_SIGNER_BINDING_MISMATCH\)/,
    );
    assert.doesNotMatch(r.stdout, /FAIL/);
    assert.deepEqual(readdirSync(cwd), [], "the extracted app and key are removed");
  });

  it("passes `keyward demo otp`: otpqr (otpauth, qrcode) from the executable's own libraries", () => {
    const r = sea("demo", "otp");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all steps as expected/);
    assert.match(r.stdout, /otpqr wrote the key URI to a new file, mode 0600/);
    assert.match(r.stdout, /the same code again: ERR_OTP_REPLAYED/);
    assert.doesNotMatch(r.stdout, /FAIL/);
    assert.deepEqual(readdirSync(cwd), [], "the extracted app and the demo's files are removed");
  });

  it("measures an enclave app exactly as the sources do", () => {
    const manifest = join(root, "examples/secret-client/app.toml");
    const r = sea("enclave", "measure", "--manifest", manifest, "--json");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, fromSources("enclave", "measure", "--manifest", manifest, "--json").stdout);
  });

  it("refuses the internal run-module entry without a module", () => {
    const r = sea(RUN_MODULE_ARG);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /the module to run is missing/);
  });

  it("reports an app that fails to load with exit 1, as node does", () => {
    const r = sea(RUN_MODULE_ARG, join(cwd, "missing.ts"));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ERR_MODULE_NOT_FOUND/);
  });
});
