import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { KeywardError } from "../errors/keyward-error.ts";
import { type SgxClaims, TCB_STATUSES, type TdxClaims, type VerifiedQuote } from "../evidence/claims.ts";
import { appraise, appraiseAgainstSet, explainAppraisal } from "./appraise.ts";
import { parsePolicy, parsePolicySet, policyFromObject, readPolicyDocument } from "./policy.ts";

const b = (n: number, v: number) => new Uint8Array(n).fill(v);
const hex = (n: number, v: number) => Buffer.from(b(n, v)).toString("hex");

const sgxClaims: SgxClaims = {
  tee: "sgx",
  mrEnclave: b(32, 1),
  mrSigner: b(32, 2),
  isvProdId: 5,
  isvSvn: 3,
  attributes: b(16, 0),
  debug: false,
  mode64Bit: true,
  miscSelect: 0,
  cpuSvn: b(16, 0),
  configId: b(64, 0),
  configSvn: 0,
  isvExtProdId: b(16, 0),
  isvFamilyId: b(16, 0),
  reportData: b(64, 0),
};
const sgx = (over: Partial<VerifiedQuote> = {}, claims: Partial<SgxClaims> = {}): VerifiedQuote => ({
  tee: "sgx",
  quoteVersion: 3,
  platform: "hardware",
  tcbStatus: "UpToDate",
  advisoryIds: [],
  fmspc: b(6, 0),
  claims: { ...sgxClaims, ...claims },
  validUntil: new Date("2030-01-01T00:00:00Z"),
  ...over,
});
const tdxClaims: TdxClaims = {
  tee: "tdx",
  teeTcbSvn: b(16, 0),
  mrSeam: b(48, 1),
  mrSignerSeam: b(48, 0),
  seamAttributes: b(8, 0),
  tdAttributes: b(8, 0),
  debug: false,
  septVeDisable: false,
  xfam: b(8, 0),
  mrTd: b(48, 7),
  mrConfigId: b(48, 0),
  mrOwner: b(48, 0),
  mrOwnerConfig: b(48, 0),
  rtmr: [b(48, 1), b(48, 2), b(48, 3), b(48, 4)],
  reportData: b(64, 0),
};
const tdx: VerifiedQuote = { ...sgx(), tee: "tdx", quoteVersion: 4, claims: tdxClaims };

describe("policy documents", () => {
  it("reads the seed format's appraisal part, handing its grant fields back raw", () => {
    const seed = {
      id: "occlum-app",
      mr_enclave: hex(32, 1),
      app_token: "t0k3n",
      secrets: { master_key: "occlum/1/image_key" },
    };
    const r = readPolicyDocument(seed, "seed.json", { grantFields: new Set(["secrets", "app_token"]) });
    assert.deepEqual(r.problems, []);
    assert.equal(r.policy.id, "occlum-app");
    assert.deepEqual(r.policy.mrEnclave, [b(32, 1)]);
    assert.deepEqual(r.grants, { app_token: "t0k3n", secrets: { master_key: "occlum/1/image_key" } });
    assert.equal(appraise(sgx(), r.policy).accepted, true);
    // Without the caller naming them, grant fields are unknown: appraisal alone grants nothing.
    assert.throws(
      () => policyFromObject(seed, "seed.json"),
      (e: KeywardError) => {
        const problems = e.detail?.problems as string[];
        return (
          problems.includes("$.secrets: unknown field") && problems.includes("$.app_token: unknown field")
        );
      },
    );
  });

  it("still refuses a misspelt rule when grant fields are named", () => {
    const r = readPolicyDocument({ id: "x", mrEnclve: hex(32, 1) }, "typo.json", {
      grantFields: new Set(["secrets"]),
    });
    assert.deepEqual(r.problems, ["$.mrEnclve: unknown field"]);
  });

  it("has safe defaults: hardware only, no debug, UpToDate only", () => {
    const p = policyFromObject({ id: "x" }, "inline");
    assert.deepEqual(p.platforms, ["hardware"]);
    assert.equal(p.allowDebug, false);
    assert.deepEqual(p.tcbStatuses, ["UpToDate"]);
    const a = appraise(sgx({ platform: "simulated", tcbStatus: "OutOfDate" }, { debug: true }), p);
    assert.deepEqual(a.failed.map((f) => f.rule).sort(), ["debug", "platform", "tcbStatus"]);
  });

  it("lists every problem with its path at once", () => {
    try {
      policyFromObject({ mrEnclave: ["zz"], tee: ["sev"], allowDebug: "yes", typo: 1 }, "bad.json");
      assert.fail("accepted");
    } catch (e) {
      assert.ok(e instanceof KeywardError);
      assert.equal(e.code, "ERR_POLICY_INVALID");
      const problems = e.detail?.problems as string[];
      for (const path of ["$.id", "$.mrEnclave[0]", "$.tee[0]", "$.allowDebug", "$.typo"]) {
        assert.ok(
          problems.some((p) => p.startsWith(path)),
          `${path} in ${problems.join(" | ")}`,
        );
      }
    }
    assert.throws(() => parsePolicy("{", "broken.json"), { code: "ERR_POLICY_INVALID" });
    assert.throws(() => parsePolicySet(JSON.stringify([{ id: "a" }, { id: "a" }]), "dup.json"), {
      code: "ERR_POLICY_INVALID",
    });
  });

  it("refuses Revoked as an accepted TCB status, naming the field (issue 11)", () => {
    for (const doc of [
      { id: "r", tcbStatuses: ["UpToDate", "Revoked"] },
      { id: "r", tcb_statuses: "Revoked" },
    ]) {
      try {
        policyFromObject(doc, "revoked.json");
        assert.fail("accepted");
      } catch (e) {
        assert.ok(e instanceof KeywardError);
        assert.equal(e.code, "ERR_POLICY_INVALID");
        const problems = e.detail?.problems as string[];
        assert.equal(problems.length, 1, problems.join(" | "));
        assert.match(problems[0] ?? "", /^\$\.tcbStatuses\[\d\]: "Revoked" is terminal/);
        assert.match(e.message, /revoked\.json/);
      }
    }
    // Every other status of a verified quote is a valid choice, the relaunch statuses included.
    const all = policyFromObject({ id: "all", tcbStatuses: [...TCB_STATUSES] }, "all.json");
    assert.deepEqual(all.tcbStatuses, TCB_STATUSES);
    assert.ok(all.tcbStatuses.includes("TDRelaunchAdvised"));
  });

  it("reads policy sets in both shapes", () => {
    assert.equal(parsePolicySet(JSON.stringify([{ id: "a" }, { id: "b" }]), "s").length, 2);
    assert.equal(parsePolicySet(JSON.stringify({ policies: [{ id: "a" }] }), "s").length, 1);
  });

  it("never throws anything but KeywardError on arbitrary documents", () => {
    fc.assert(
      fc.property(fc.anything(), (doc) => {
        try {
          policyFromObject(doc, "fuzz");
        } catch (e) {
          if (!(e instanceof KeywardError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("appraise", () => {
  it("passes and fails every SGX rule with expected and actual values", () => {
    const p = policyFromObject(
      {
        id: "p",
        mrEnclave: [hex(32, 1)],
        mrSigner: hex(32, 2),
        isvProdId: [5],
        minIsvSvn: 3,
        tcbStatuses: ["UpToDate", "SWHardeningNeeded"],
      },
      "p",
    );
    assert.equal(appraise(sgx(), p).accepted, true);
    const a = appraise(
      sgx({ tcbStatus: "OutOfDate" }, { mrEnclave: b(32, 9), mrSigner: b(32, 9), isvProdId: 6, isvSvn: 2 }),
      p,
    );
    assert.equal(a.accepted, false);
    assert.deepEqual(
      a.failed.map((f) => f.rule),
      ["tcbStatus", "mrEnclave", "mrSigner", "isvProdId", "minIsvSvn"],
    );
    const m = a.failed.find((f) => f.rule === "mrEnclave");
    assert.equal(m?.expected, hex(32, 1));
    assert.equal(m?.actual, hex(32, 9));
    assert.match(explainAppraisal(a), /FAIL mrEnclave/);
  });

  it("passes and fails the TDX rules, and fails closed on claims the TEE does not have", () => {
    const p = policyFromObject(
      {
        id: "td",
        tee: "tdx",
        mrTd: hex(48, 7),
        rtmr0: hex(48, 1),
        rtmr3: hex(48, 4),
        requireSeptVeDisable: true,
      },
      "td",
    );
    const a = appraise(tdx, p);
    assert.deepEqual(
      a.failed.map((f) => f.rule),
      ["septVeDisable"],
    );
    assert.equal(appraise({ ...tdx, claims: { ...tdxClaims, septVeDisable: true } }, p).accepted, true);
    const onSgx = appraise(sgx(), policyFromObject({ id: "x", mrTd: hex(48, 7) }, "x"));
    assert.deepEqual(
      onSgx.failed.map((f) => [f.rule, f.actual]),
      [["mrTd", "(absent)"]],
    );
    assert.deepEqual(
      appraise(sgx(), p).failed.map((f) => f.rule),
      ["tee", "mrTd", "rtmr0", "rtmr3"],
    );
  });

  it("accepts advisories only when listed", () => {
    const p = policyFromObject(
      { id: "a", tcbStatuses: ["SWHardeningNeeded"], advisoryIds: ["INTEL-SA-00615"] },
      "a",
    );
    assert.equal(
      appraise(sgx({ tcbStatus: "SWHardeningNeeded", advisoryIds: ["INTEL-SA-00615"] }), p).accepted,
      true,
    );
    const a = appraise(
      sgx({ tcbStatus: "SWHardeningNeeded", advisoryIds: ["INTEL-SA-00615", "INTEL-SA-00289"] }),
      p,
    );
    assert.deepEqual(
      a.failed.map((f) => f.rule),
      ["advisoryIds"],
    );
  });

  it("finds the first accepting policy in a set and keeps every appraisal of its candidates", () => {
    const set = [
      policyFromObject({ id: "a", mrEnclave: hex(32, 9) }, "a"),
      policyFromObject({ id: "b", mrSigner: hex(32, 2), isvProdId: [4] }, "b"),
      policyFromObject({ id: "c", mrEnclave: hex(32, 1) }, "c"),
    ];
    const r = appraiseAgainstSet(sgx(), set);
    assert.equal(r.accepted?.id, "c");
    // "a" pins another MRENCLAVE: not a candidate; "b" pins the caller's MRSIGNER but another product.
    assert.deepEqual(
      r.appraisals.map((a) => [a.policyId, a.accepted]),
      [
        ["b", false],
        ["c", true],
      ],
    );
    assert.equal(appraiseAgainstSet(sgx({}, { mrEnclave: b(32, 3) }), set).accepted, undefined);
  });
});
