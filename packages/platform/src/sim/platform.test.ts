import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createDcapVerifier,
  intelTrustAnchor,
  parseCollateralJson,
  parseDcapQuote,
} from "@keyward/attest/dcap";
import { parsePckExtensions, parsePemCertificates } from "@keyward/attest/x509";
import { initSimPlatform, loadSimPlatform, refreshSimCollateral, SIM_FMSPC } from "./index.ts";

const root = mkdtempSync(join(tmpdir(), "keyward-sim-"));
after(() => rmSync(root, { recursive: true, force: true }));
const now = new Date("2026-11-01T00:00:00Z");
const later = new Date("2026-11-02T00:00:00Z");
const dir = join(root, "sim");
const sim = initSimPlatform(dir, { now, validityDays: 30 });
const simRoot = parsePemCertificates(sim.rootCertificatePem)[0];
assert.ok(simRoot);
const trusting = createDcapVerifier({
  anchors: [intelTrustAnchor(), { certificate: simRoot, platform: "simulated" }],
});
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

describe("simulated platform", () => {
  it("round-trips an SGX v3 quote: verified, labelled simulated, claims as put in", () => {
    const quote = sim.quoteSgx({
      mrEnclave: bytes(32, 1),
      mrSigner: bytes(32, 2),
      isvProdId: 7,
      isvSvn: 3,
      reportData: bytes(64, 9),
    });
    assert.equal(parseDcapQuote(quote).header.version, 3);
    const r = trusting.verify(quote, parseCollateralJson(sim.collateralJson("sgx")), later);
    assert.equal(r.platform, "simulated");
    assert.equal(r.tcbStatus, "UpToDate");
    assert.equal(r.claims.tee, "sgx");
    if (r.claims.tee !== "sgx") return;
    assert.deepEqual(r.claims.mrEnclave, bytes(32, 1));
    assert.deepEqual(r.claims.mrSigner, bytes(32, 2));
    assert.equal(r.claims.isvProdId, 7);
    assert.equal(r.claims.isvSvn, 3);
    assert.equal(r.claims.debug, false);
    assert.deepEqual(r.claims.reportData, bytes(64, 9));
    assert.deepEqual(r.fmspc, SIM_FMSPC);
  });

  // A verifier whose clock was read just before the platform made its collateral (a loaded machine)
  // once met a CRL whose thisUpdate lay in its future: ERR_CRL_EXPIRED. Collateral is backdated.
  it("verifies at a time read a moment before the collateral was made", () => {
    const quote = sim.quoteSgx({
      mrEnclave: bytes(32, 1),
      mrSigner: bytes(32, 2),
      isvProdId: 1,
      isvSvn: 1,
      reportData: bytes(64, 0),
    });
    const collateral = parseCollateralJson(sim.collateralJson("sgx"));
    for (const at of [new Date(now.getTime() - 1), new Date(now.getTime() - 59 * 60_000)])
      assert.equal(trusting.verify(quote, collateral, at).tcbStatus, "UpToDate", at.toISOString());
  });

  it("round-trips TDX v4 and v5 quotes", () => {
    for (const version of [4, 5] as const) {
      const quote = sim.quoteTdx(
        { mrTd: bytes(48, 5), reportData: bytes(64, 6), mrServiceTd: bytes(48, 0) },
        version,
      );
      const r = trusting.verify(quote, parseCollateralJson(sim.collateralJson("tdx")), later);
      assert.equal(r.quoteVersion, version);
      assert.equal(r.platform, "simulated");
      assert.equal(r.tcbStatus, "UpToDate");
      assert.ok(r.claims.tee === "tdx");
      if (r.claims.tee === "tdx") {
        assert.deepEqual(r.claims.mrTd, bytes(48, 5));
        assert.equal(r.claims.septVeDisable, true);
        assert.equal(r.claims.mrServiceTd !== undefined, version === 5);
      }
    }
  });

  it("marks debug enclaves in the claims", () => {
    const attributes = Uint8Array.of(0x07, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0);
    const quote = sim.quoteSgx({
      mrEnclave: bytes(32, 1),
      mrSigner: bytes(32, 2),
      isvProdId: 0,
      isvSvn: 0,
      reportData: bytes(64, 0),
      attributes,
    });
    assert.equal(
      trusting.verify(quote, parseCollateralJson(sim.collateralJson("sgx")), later).claims.debug,
      true,
    );
  });

  it("is refused unless its root is trusted explicitly", () => {
    const quote = sim.quoteSgx({
      mrEnclave: bytes(32, 1),
      mrSigner: bytes(32, 2),
      isvProdId: 0,
      isvSvn: 0,
      reportData: bytes(64, 0),
    });
    assert.throws(
      () => createDcapVerifier().verify(quote, parseCollateralJson(sim.collateralJson("sgx")), later),
      {
        code: "ERR_X509_UNTRUSTED_ROOT",
      },
    );
  });

  it("is refused when labelled as hardware by nobody: a second simulated platform is not trusted by the first's root", () => {
    const other = initSimPlatform(join(root, "other"), { now });
    const quote = other.quoteSgx({
      mrEnclave: bytes(32, 1),
      mrSigner: bytes(32, 2),
      isvProdId: 0,
      isvSvn: 0,
      reportData: bytes(64, 0),
    });
    assert.throws(() => trusting.verify(quote, parseCollateralJson(other.collateralJson("sgx")), later), {
      code: "ERR_X509_UNTRUSTED_ROOT",
    });
  });

  it("enforces collateral expiry, and refresh renews it without changing keys", () => {
    const d = join(root, "refresh");
    const s = initSimPlatform(d, { now, validityDays: 1 });
    const anchor = parsePemCertificates(s.rootCertificatePem)[0];
    assert.ok(anchor);
    const v = createDcapVerifier({ anchors: [{ certificate: anchor, platform: "simulated" }] });
    const quote = s.quoteSgx({
      mrEnclave: bytes(32, 1),
      mrSigner: bytes(32, 2),
      isvProdId: 0,
      isvSvn: 0,
      reportData: bytes(64, 0),
    });
    const inTwoDays = new Date(now.getTime() + 2 * 86_400_000);
    assert.throws(() => v.verify(quote, parseCollateralJson(s.collateralJson("sgx")), inTwoDays), {
      code: /^ERR_(CRL_EXPIRED|DCAP_COLLATERAL_EXPIRED)$/,
    });
    refreshSimCollateral(d, inTwoDays);
    const renewed = loadSimPlatform(d);
    assert.equal(renewed.rootCertificatePem, s.rootCertificatePem);
    assert.equal(
      v.verify(quote, parseCollateralJson(renewed.collateralJson("sgx")), inTwoDays).tcbStatus,
      "UpToDate",
    );
  });

  it("issues a PCK certificate with the real SGX extension structure", () => {
    const chain = parsePemCertificates(readFileSync(join(dir, "pck-chain.pem"), "utf8"));
    assert.equal(chain.length, 3);
    const pck = parsePckExtensions(chain[0] as (typeof chain)[number]);
    assert.deepEqual(pck.fmspc, SIM_FMSPC);
    assert.equal(pck.tcb.sgxTcbComponents.length, 16);
    assert.match(chain[0]?.subject ?? "", /Simulated/);
  });

  it("keeps private keys and the sealing secret in 0600 files, and refuses to overwrite them", () => {
    for (const f of ["keys/root.key", "keys/pck.key", "keys/attestation.key", "sealing-secret.bin"]) {
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    }
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.throws(() => initSimPlatform(dir, { now }), { code: "ERR_SIM_EXISTS" });
    assert.throws(() => loadSimPlatform(join(root, "missing")), { code: "ERR_SIM_NOT_FOUND" });
  });

  it("works end to end through the CLI: sim init, sim quote, quote verify --trust-sim", () => {
    const bin = fileURLToPath(new URL("../../../cli/bin/keyward.ts", import.meta.url));
    const data = join(root, "cli");
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
        encoding: "utf8",
      });
    assert.equal(run("sim", "init", "--data-dir", data).status, 0);
    const q = join(data, "q.bin");
    const c = join(data, "c.json");
    const made = run(
      "sim",
      "quote",
      "--tee",
      "sgx",
      "--report-data",
      "abcd",
      "--out",
      q,
      "--collateral-out",
      c,
      "--data-dir",
      data,
    );
    assert.equal(made.status, 0, made.stderr);
    const ok = run("quote", "verify", q, "--collateral", c, "--trust-sim", "--data-dir", data, "--json");
    assert.equal(ok.status, 0, ok.stderr);
    const verdict = JSON.parse(ok.stdout);
    assert.equal(verdict.platform, "simulated");
    assert.equal(verdict.tee, "sgx");
    assert.match(verdict.claims.reportData, /^abcd0{124}$/);
    const refused = run("quote", "verify", q, "--collateral", c, "--json");
    assert.equal(refused.status, 1);
    assert.equal(JSON.parse(refused.stdout).error.code, "ERR_X509_UNTRUSTED_ROOT");
    // The default-deny policy: simulated evidence is refused unless the policy accepts it.
    const policy = join(data, "policy.json");
    writeFileSync(policy, JSON.stringify({ id: "app" }));
    const denied = run(
      "quote",
      "verify",
      q,
      "--collateral",
      c,
      "--trust-sim",
      "--data-dir",
      data,
      "--policy",
      policy,
      "--json",
    );
    assert.equal(denied.status, 1);
    assert.deepEqual(
      JSON.parse(denied.stdout).appraisal.failed.map((f: { rule: string }) => f.rule),
      ["platform"],
    );
    writeFileSync(policy, JSON.stringify({ id: "app", platforms: ["simulated"] }));
    assert.equal(
      run("quote", "verify", q, "--collateral", c, "--trust-sim", "--data-dir", data, "--policy", policy)
        .status,
      0,
    );
  });
});
