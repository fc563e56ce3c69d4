import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { vectorFile } from "../../../test/dcap-vectors.ts";
import { parseQeIdentity } from "./qe-identity.ts";
import { parseTcbInfo } from "./tcb-info.ts";

// biome-ignore lint/suspicious/noExplicitAny: edits of free-form collateral JSON
type Json = any;
const body = (name: string, file: string): Json => JSON.parse(readFileSync(vectorFile(name, file), "utf8"));
const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const malformed = (message: RegExp) => ({ code: "ERR_DCAP_COLLATERAL_MALFORMED", message });

describe("TCB Info: the shape QVL's parser requires (TcbInfo.cpp, TcbLevel.cpp)", () => {
  const sgx = body("automata-sgx-v3", "tcb_info.json");
  const tdx = body("automata-tdx-v4", "tcb_info.json");

  it("parses the real SGX and TDX TCB Info, levels highest first", () => {
    for (const t of [sgx, tdx]) {
      const info = parseTcbInfo(bytes(t));
      assert.equal(info.tcbLevels.length, t.tcbLevels.length);
      assert.ok(info.tcbLevels.length > 1);
      const first = info.tcbLevels[0];
      const second = info.tcbLevels[1];
      assert.ok(first && second && (first.sgxComponents[0] ?? 0) >= (second.sgxComponents[0] ?? 0));
    }
  });

  it("sorts levels given in any order into QVL's descending order", () => {
    const reversed = { ...sgx, tcbLevels: [...sgx.tcbLevels].reverse() };
    assert.deepEqual(parseTcbInfo(bytes(reversed)).tcbLevels, parseTcbInfo(bytes(sgx)).tcbLevels);
  });

  it("refuses a TCB type other than 0 (4.1.2.7.4), or none", () => {
    assert.throws(() => parseTcbInfo(bytes({ ...sgx, tcbType: 1 })), malformed(/tcbType 1/));
    const { tcbType: _t, ...noType } = sgx;
    assert.throws(() => parseTcbInfo(bytes(noType)), malformed(/tcbType/));
  });

  it("requires tcbEvaluationDataNumber", () => {
    const { tcbEvaluationDataNumber: _n, ...none } = sgx;
    assert.throws(() => parseTcbInfo(bytes(none)), malformed(/tcbEvaluationDataNumber/));
  });

  it("refuses an empty level list and a level given twice", () => {
    assert.throws(() => parseTcbInfo(bytes({ ...sgx, tcbLevels: [] })), malformed(/empty/));
    assert.throws(
      () => parseTcbInfo(bytes({ ...sgx, tcbLevels: [sgx.tcbLevels[0], ...sgx.tcbLevels] })),
      malformed(/twice/),
    );
  });

  it("keeps the TDX module fields to TDX TCB Info, and requires tdxModule there", () => {
    assert.throws(() => parseTcbInfo(bytes({ ...sgx, tdxModule: tdx.tdxModule })), malformed(/TDX module/));
    assert.throws(
      () => parseTcbInfo(bytes({ ...sgx, tdxModuleIdentities: tdx.tdxModuleIdentities })),
      malformed(/TDX module/),
    );
    const { tdxModule: _m, ...noModule } = tdx;
    assert.throws(() => parseTcbInfo(bytes(noModule)), malformed(/no tdxModule/));
    assert.throws(() => parseTcbInfo(bytes({ ...tdx, tdxModuleIdentities: [] })), malformed(/empty/));
  });

  it("requires each tcbDate to be a date", () => {
    const levels = structuredClone(sgx.tcbLevels);
    levels[0].tcbDate = "yesterday";
    assert.throws(() => parseTcbInfo(bytes({ ...sgx, tcbLevels: levels })), malformed(/tcbDate/));
  });

  it("refuses a status name QVL does not know", () => {
    const levels = structuredClone(sgx.tcbLevels);
    levels[0].tcbStatus = "Revoked ";
    assert.throws(
      () => parseTcbInfo(bytes({ ...sgx, tcbLevels: levels })),
      malformed(/unrecognized TCB status/),
    );
  });
});

describe("QE Identity: the fields QVL requires (EnclaveIdentityV2.cpp)", () => {
  const qe = body("automata-sgx-v3", "qe_identity.json");

  it("parses the real QE Identity and requires tcbEvaluationDataNumber and dated levels", () => {
    assert.equal(parseQeIdentity(bytes(qe)).id, "QE");
    const { tcbEvaluationDataNumber: _n, ...none } = qe;
    assert.throws(() => parseQeIdentity(bytes(none)), malformed(/tcbEvaluationDataNumber/));
    const levels = structuredClone(qe.tcbLevels);
    levels[0].tcbDate = "2024-13-45";
    assert.throws(() => parseQeIdentity(bytes({ ...qe, tcbLevels: levels })), malformed(/tcbDate/));
  });
});
