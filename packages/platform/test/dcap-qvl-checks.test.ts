/**
 * The checks of Intel's QVL QuoteVerifier that need collateral other than Intel's own (docs/dcap.md,
 * "Intel's QVL, check by check"): simulated evidence whose TCB Info or QE Identity was edited and
 * re-signed by the simulation's TCB-signing key, so that only the check under test can fail.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { isKeywardError } from "@keyward/attest/errors";
import { parsePemCertificates } from "@keyward/attest/x509";
import { initSimPlatform, type SimTee } from "@keyward/platform/sim";
import { type BodyEdit, resignedSimCollateral } from "./sim-collateral.ts";

const root = mkdtempSync(join(tmpdir(), "keyward-qvl-"));
after(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, "sim");
const sim = initSimPlatform(dir, { now: new Date("2026-11-01T00:00:00Z") });
const at = new Date("2026-11-02T00:00:00Z");
const [simRoot] = parsePemCertificates(sim.rootCertificatePem);
assert.ok(simRoot);
const verifier = () => createDcapVerifier({ anchors: [{ certificate: simRoot, platform: "simulated" }] });
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
const sgxQuote = sim.quoteSgx({
  mrEnclave: bytes(32, 1),
  mrSigner: bytes(32, 2),
  isvProdId: 1,
  isvSvn: 1,
  reportData: bytes(64, 3),
});
const tdxQuote = sim.quoteTdx({ mrTd: bytes(48, 4), reportData: bytes(64, 5) }, 4);

const failure = (
  tee: SimTee,
  edits: { tcbInfo?: BodyEdit; qeIdentity?: BodyEdit },
): { code: string; detail: unknown } => {
  try {
    verifier().verify(
      tee === "sgx" ? sgxQuote : tdxQuote,
      parseCollateralJson(resignedSimCollateral(dir, tee, edits)),
      at,
    );
  } catch (e) {
    if (isKeywardError(e)) return { code: e.code, detail: e.detail };
    throw e;
  }
  return { code: "verified", detail: undefined };
};
const edit =
  (f: (body: Parameters<BodyEdit>[0]) => void): BodyEdit =>
  (body) => {
    f(body);
    return body;
  };

describe("QVL QuoteVerifier checks on re-signed simulated collateral", () => {
  it("control: the re-signed but unchanged collateral verifies", () => {
    assert.equal(failure("sgx", { tcbInfo: (t) => t, qeIdentity: (q) => q }).code, "verified");
    assert.equal(failure("tdx", { tcbInfo: (t) => t, qeIdentity: (q) => q }).code, "verified");
  });

  it("4.1.2.4.10: TCB Info of another PCE-ID or FMSPC", () => {
    for (const e of [edit((t) => (t.pceId = "0100")), edit((t) => (t.fmspc = "00906ED50000"))]) {
      assert.equal(failure("sgx", { tcbInfo: e }).code, "ERR_DCAP_COLLATERAL_MISMATCH");
    }
  });

  it("4.1.2.4.11: the TDX module's signer, its attributes, a missing module identity", () => {
    const cases = [
      edit((t) => (t.tdxModuleIdentities[0].mrsigner = "11".repeat(48))),
      edit((t) => (t.tdxModuleIdentities[0].attributes = "0100000000000000")),
      edit((t) => (t.tdxModuleIdentities[0].id = "TDX_02")),
    ];
    for (const e of cases) assert.equal(failure("tdx", { tcbInfo: e }).code, "ERR_DCAP_TDX_MODULE_MISMATCH");
  });

  it("4.1.2.4.15: the QE is not the one QE Identity describes, field by field", () => {
    const cases: [BodyEdit, string][] = [
      [edit((q) => (q.mrsigner = "22".repeat(32))), "MRSIGNER"],
      [edit((q) => (q.isvprodid = 9)), "ISVPRODID"],
      [edit((q) => (q.miscselect = "00000001")), "MISCSELECT"],
      [edit((q) => (q.attributes = "13000000000000000000000000000000")), "ATTRIBUTES"],
    ];
    for (const [e, field] of cases) {
      const f = failure("sgx", { qeIdentity: e });
      assert.equal(f.code, "ERR_DCAP_QE_IDENTITY_MISMATCH", field);
      assert.deepEqual(f.detail, { fields: [field] });
    }
  });

  it("4.1.2.4.15: no QE Identity level at or below the QE's ISVSVN (ISVSVN_NOT_SUPPORTED)", () => {
    const e = edit((q) => (q.tcbLevels[0].tcb.isvsvn = 9));
    assert.equal(failure("sgx", { qeIdentity: e }).code, "ERR_DCAP_TCB_NOT_SUPPORTED");
  });

  it("4.1.2.4.17: no TCB level the platform meets (TCB_NOT_SUPPORTED), SGX and TDX", () => {
    const higher = edit((t) => {
      for (const l of t.tcbLevels) l.tcb.pcesvn = 200;
    });
    assert.equal(failure("sgx", { tcbInfo: higher }).code, "ERR_DCAP_TCB_NOT_SUPPORTED");
    const tdxHigher = edit((t) => {
      for (const l of t.tcbLevels) l.tcb.tdxtcbcomponents[2].svn = 200;
    });
    assert.equal(failure("tdx", { tcbInfo: tdxHigher }).code, "ERR_DCAP_TCB_NOT_SUPPORTED");
    const moduleHigher = edit((t) => {
      for (const l of t.tdxModuleIdentities[0].tcbLevels) l.tcb.isvsvn = 200;
    });
    assert.equal(failure("tdx", { tcbInfo: moduleHigher }).code, "ERR_DCAP_TCB_NOT_SUPPORTED");
  });

  it("TCB Info and QE Identity past nextUpdate (TCB_INFO_EXPIRED, ENCLAVE_IDENTITY_EXPIRED)", () => {
    const stale = edit((b) => (b.nextUpdate = "2026-11-01T12:00:00Z"));
    assert.equal(failure("sgx", { tcbInfo: stale }).code, "ERR_DCAP_COLLATERAL_EXPIRED");
    assert.equal(failure("sgx", { qeIdentity: stale }).code, "ERR_DCAP_COLLATERAL_EXPIRED");
  });
});
