/**
 * `keyward quote verify` on terminal TCB statuses (issue 11): a Revoked platform, QE or TDX
 * module level is a rejection with its own code (exit 1), with or without a policy, and a policy
 * that lists "Revoked" is refused as invalid input (exit 2). The shared reproducer's inputs are
 * in fixtures/dcap-revoked-platform (see its PROVENANCE.md); the other cases are built here from a
 * fresh simulated platform whose collateral is re-signed by the simulation's TCB-signing key.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { initSimPlatform } from "@keyward/platform/sim";
import { type BodyEdit, resignedSimCollateral } from "../../platform/test/sim-collateral.ts";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const F = fileURLToPath(new URL("./fixtures/dcap-revoked-platform/", import.meta.url));
const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], { encoding: "utf8" });
const errorCode = (r: { stdout: string }): unknown => JSON.parse(r.stdout).error?.code;

const tmp = mkdtempSync(join(tmpdir(), "keyward-cli-terminal-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("keyward quote verify: the shared dcap-revoked-platform case", () => {
  const verify = (collateral: string, ...more: string[]) =>
    keyward(
      "quote",
      "verify",
      join(F, "sgx.bin"),
      "--collateral",
      join(F, collateral),
      "--sim-root",
      join(F, "root.pem"),
      "--at",
      "2026-12-01T00:00:00Z",
      "--json",
      ...more,
    );

  it("control: the unchanged collateral verifies (exit 0)", () => {
    const r = verify("sgx-coll.json");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).tcbStatus, "UpToDate");
  });

  it("platform level Revoked, no policy: exit 1, ERR_DCAP_TCB_REVOKED", () => {
    const r = verify("collateral.json");
    assert.equal(r.status, 1, r.stderr);
    assert.equal(errorCode(r), "ERR_DCAP_TCB_REVOKED");
    assert.match(r.stdout, /KEYWARD-TEST-REVOKED/);
  });

  it("platform level Revoked, with a policy that accepts every status: still exit 1 with the code", () => {
    const policy = join(tmp, "lenient.json");
    writeFileSync(
      policy,
      JSON.stringify({
        id: "lenient",
        platforms: ["simulated"],
        tcbStatuses: ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "OutOfDate"],
      }),
    );
    const r = verify("collateral.json", "--policy", policy);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(errorCode(r), "ERR_DCAP_TCB_REVOKED");
  });

  it('a policy listing "Revoked" is refused as invalid (exit 2), naming the field', () => {
    for (const collateral of ["collateral.json", "sgx-coll.json"]) {
      const r = verify(collateral, "--policy", join(F, "policy-lists-revoked.json"));
      assert.equal(r.status, 2, r.stderr);
      assert.equal(errorCode(r), "ERR_POLICY_INVALID");
      assert.match(JSON.parse(r.stdout).error.message, /\$\.tcbStatuses\[1\]: "Revoked" is terminal/);
    }
  });
});

describe("keyward quote verify: every terminal level, SGX and TDX, from the simulated platform", () => {
  const dir = join(tmp, "sim");
  const sim = initSimPlatform(dir, { now: new Date("2026-11-01T00:00:00Z") });
  const rootPem = join(tmp, "root.pem");
  writeFileSync(rootPem, sim.rootCertificatePem);
  const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
  const quotes = {
    sgx: sim.quoteSgx({
      mrEnclave: bytes(32, 1),
      mrSigner: bytes(32, 2),
      isvProdId: 1,
      isvSvn: 1,
      reportData: bytes(64, 3),
    }),
    tdx4: sim.quoteTdx({ mrTd: bytes(48, 4), reportData: bytes(64, 5) }, 4),
    tdx5: sim.quoteTdx({ mrTd: bytes(48, 4), reportData: bytes(64, 5) }, 5),
  };
  const revoke =
    (path: (body: Parameters<BodyEdit>[0]) => { tcbStatus: string }): BodyEdit =>
    (body) => {
      path(body).tcbStatus = "Revoked";
      return body;
    };
  const cases = [
    {
      what: "platform",
      tcbInfo: revoke((t) => t.tcbLevels[0]),
      code: "ERR_DCAP_TCB_REVOKED",
      quotes: ["sgx", "tdx4", "tdx5"],
    },
    {
      what: "QE",
      qeIdentity: revoke((q) => q.tcbLevels[0]),
      code: "ERR_DCAP_QE_TCB_REVOKED",
      quotes: ["sgx", "tdx5"],
    },
    {
      what: "TDX module",
      tcbInfo: revoke((t) => t.tdxModuleIdentities[0].tcbLevels[0]),
      code: "ERR_DCAP_TDX_MODULE_REVOKED",
      quotes: ["tdx4"],
    },
  ] as const;

  for (const c of cases) {
    for (const q of c.quotes) {
      it(`${q}: ${c.what} level Revoked → exit 1, ${c.code}`, () => {
        const quote = join(tmp, `${q}.bin`);
        const collateral = join(tmp, `${q}-${c.what}.json`);
        writeFileSync(quote, quotes[q]);
        writeFileSync(
          collateral,
          resignedSimCollateral(dir, q === "sgx" ? "sgx" : "tdx", {
            ...("tcbInfo" in c ? { tcbInfo: c.tcbInfo } : {}),
            ...("qeIdentity" in c ? { qeIdentity: c.qeIdentity } : {}),
          }),
        );
        const r = keyward(
          "quote",
          "verify",
          quote,
          "--collateral",
          collateral,
          "--sim-root",
          rootPem,
          "--at",
          "2026-11-02T00:00:00Z",
          "--json",
        );
        assert.equal(r.status, 1, r.stderr);
        assert.equal(errorCode(r), c.code);
      });
    }
  }
});
