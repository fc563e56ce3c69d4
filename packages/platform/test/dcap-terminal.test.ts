/**
 * Terminal TCB statuses (issue 11): every place where Intel's QVL ends verification on a Revoked
 * level fails with its own code, SGX and TDX, cold and warm; the TD relaunch statuses of QVL
 * TDRelaunchCheck.cpp; QVL's reading of QE levels. Each case is real simulated evidence whose
 * collateral was re-signed by the simulation's TCB-signing key, so every signature check passes
 * and the grading itself decides.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  createDcapVerifier,
  type DcapVerdict,
  type DcapVerifier,
  parseCollateralJson,
} from "@keyward/attest/dcap";
import { isKeywardError } from "@keyward/attest/errors";
import { TCB_STATUSES, type TcbStatus } from "@keyward/attest/evidence";
import { parsePemCertificates } from "@keyward/attest/x509";
import { initSimPlatform, SIM_TEE_TCB_SVN } from "@keyward/platform/sim";
import { type BodyEdit, resignedSimCollateral } from "./sim-collateral.ts";

const root = mkdtempSync(join(tmpdir(), "keyward-terminal-"));
after(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, "sim");
const sim = initSimPlatform(dir, { now: new Date("2026-11-01T00:00:00Z") });
const at = new Date("2026-11-02T00:00:00Z");
const [simRoot] = parsePemCertificates(sim.rootCertificatePem);
assert.ok(simRoot);
const anchors = [{ certificate: simRoot, platform: "simulated" as const }];
const fresh = (): DcapVerifier => createDcapVerifier({ anchors });
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
type QuoteName = keyof typeof quotes;
const teeOf = (q: QuoteName) => (q === "sgx" ? "sgx" : "tdx");

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isKeywardError(e)) return e.code;
    throw e;
  }
  return "verified";
};

// Edits of the simulated TCB Info and QE Identity (profile.ts: the platform matches tcbLevels[0],
// the TDX module TDX_01 ISVSVN 5 matches its tcbLevels[0], the QE ISVSVN 8 its only level).
const revokePlatform: BodyEdit = (t) => {
  t.tcbLevels[0].tcbStatus = "Revoked";
  t.tcbLevels[0].advisoryIDs = ["KEYWARD-TEST-REVOKED"];
  return t;
};
const revokeModule: BodyEdit = (t) => {
  t.tdxModuleIdentities[0].tcbLevels[0].tcbStatus = "Revoked";
  return t;
};
const revokeQe: BodyEdit = (q) => {
  q.tcbLevels[0].tcbStatus = "Revoked";
  return q;
};

interface Case {
  readonly name: string;
  readonly quotes: readonly QuoteName[];
  readonly tcbInfo?: BodyEdit;
  readonly qeIdentity?: BodyEdit;
  readonly code: string;
}

const terminal: readonly Case[] = [
  {
    name: "platform TCB level Revoked",
    quotes: ["sgx", "tdx4", "tdx5"],
    tcbInfo: revokePlatform,
    code: "ERR_DCAP_TCB_REVOKED",
  },
  {
    name: "QE Identity level of the QE's ISVSVN Revoked",
    quotes: ["sgx", "tdx4", "tdx5"],
    qeIdentity: revokeQe,
    code: "ERR_DCAP_QE_TCB_REVOKED",
  },
  {
    name: "TDX module identity level Revoked",
    quotes: ["tdx4", "tdx5"],
    tcbInfo: revokeModule,
    code: "ERR_DCAP_TDX_MODULE_REVOKED",
  },
];

const collateralFor = (q: QuoteName, c: Pick<Case, "tcbInfo" | "qeIdentity">) =>
  parseCollateralJson(
    resignedSimCollateral(dir, teeOf(q), {
      ...(c.tcbInfo === undefined ? {} : { tcbInfo: c.tcbInfo }),
      ...(c.qeIdentity === undefined ? {} : { qeIdentity: c.qeIdentity }),
    }),
  );

describe("terminal TCB statuses fail verification with their own codes", () => {
  it("the unchanged simulated collateral verifies (control)", () => {
    for (const q of Object.keys(quotes) as QuoteName[]) {
      const v = fresh().verify(quotes[q], parseCollateralJson(sim.collateralJson(teeOf(q))), at);
      assert.equal(v.tcbStatus, "UpToDate", q);
    }
  });

  for (const c of terminal) {
    for (const q of c.quotes) {
      it(`${q}: ${c.name} → ${c.code}, cold and after a warm success`, () => {
        const collateral = collateralFor(q, c);
        assert.equal(
          codeOf(() => fresh().verify(quotes[q], collateral, at)),
          c.code,
        );
        // A verifier whose caches hold this platform's good verdict still fails the revoked one.
        const warm = fresh();
        warm.verify(quotes[q], parseCollateralJson(sim.collateralJson(teeOf(q))), at);
        assert.equal(
          codeOf(() => warm.verify(quotes[q], collateral, at)),
          c.code,
        );
        assert.equal(
          codeOf(() => warm.verify(quotes[q], collateral, at)),
          c.code,
          "and again",
        );
      });
    }
  }

  it("says which advisories revoked the level", () => {
    try {
      fresh().verify(quotes.sgx, collateralFor("sgx", { tcbInfo: revokePlatform }), at);
      assert.fail("verified");
    } catch (e) {
      assert.ok(isKeywardError(e, "ERR_DCAP_TCB_REVOKED"));
      assert.deepEqual(e.detail?.advisoryIds, ["KEYWARD-TEST-REVOKED"]);
      assert.match(e.message, /KEYWARD-TEST-REVOKED/);
    }
  });

  it("TDX: a Revoked SGX level fails even when a lower level matches the TDX components (stricter than QVL)", () => {
    const edit: BodyEdit = (t) => {
      const matched = t.tcbLevels[0];
      const higherTdx = structuredClone(matched);
      higherTdx.tcb.tdxtcbcomponents[2].svn = 200; // above the simulated TEE_TCB_SVN[2]
      higherTdx.tcbStatus = "Revoked";
      t.tcbLevels = [higherTdx, matched];
      return t;
    };
    assert.equal(
      codeOf(() => fresh().verify(quotes.tdx4, collateralFor("tdx4", { tcbInfo: edit }), at)),
      "ERR_DCAP_TCB_REVOKED",
    );
  });

  it("refuses a TDX module level status QVL does not know for modules", () => {
    const edit: BodyEdit = (t) => {
      t.tdxModuleIdentities[0].tcbLevels[0].tcbStatus = "SWHardeningNeeded";
      return t;
    };
    assert.equal(
      codeOf(() => fresh().verify(quotes.tdx4, collateralFor("tdx4", { tcbInfo: edit }), at)),
      "ERR_DCAP_COLLATERAL_MALFORMED",
    );
  });

  it("no verdict status is Revoked, in the type and in the list", () => {
    assert.ok(!(TCB_STATUSES as readonly string[]).includes("Revoked"));
    // @ts-expect-error "Revoked" is not a status a verified quote can have
    const revoked: TcbStatus = "Revoked";
    // @ts-expect-error nor a status of the verdict
    const verdictStatus: DcapVerdict["tcbStatus"] = "Revoked";
    assert.equal(revoked, verdictStatus);
  });
});

describe("QE Identity levels, as QVL reads them", () => {
  it("a QE level other than UpToDate makes the verdict out of date (ISVSVN_OUT_OF_DATE)", () => {
    for (const status of ["ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"]) {
      const edit: BodyEdit = (q) => {
        q.tcbLevels[0].tcbStatus = status;
        return q;
      };
      const v = fresh().verify(quotes.sgx, collateralFor("sgx", { qeIdentity: edit }), at);
      assert.equal(v.tcbStatus, "OutOfDate", status);
      assert.equal(v.details.qeTcbStatus, status);
    }
  });

  it("refuses a QE level status QVL does not know for QE Identity", () => {
    const edit: BodyEdit = (q) => {
      q.tcbLevels[0].tcbStatus = "SWHardeningNeeded";
      return q;
    };
    assert.equal(
      codeOf(() => fresh().verify(quotes.sgx, collateralFor("sgx", { qeIdentity: edit }), at)),
      "ERR_DCAP_COLLATERAL_MALFORMED",
    );
  });
});

describe("TD relaunch (TD report 1.5, QVL TDRelaunchCheck.cpp)", () => {
  // The TD was launched on module ISVSVN 5; TCB Info now wants 6 (5 is OutOfDate).
  const moduleUpdated =
    (platformStatus = "UpToDate"): BodyEdit =>
    (t) => {
      t.tdxModuleIdentities[0].tcbLevels = [
        { tcb: { isvsvn: 6 }, tcbDate: "2026-06-01T00:00:00Z", tcbStatus: "UpToDate" },
        {
          tcb: { isvsvn: 5 },
          tcbDate: "2026-01-01T00:00:00Z",
          tcbStatus: "OutOfDate",
          advisoryIDs: ["KEYWARD-TEST-MODULE"],
        },
      ];
      t.tcbLevels[0].tcbStatus = platformStatus;
      return t;
    };
  const svn2 = (minor: number) => Uint8Array.from([minor, ...SIM_TEE_TCB_SVN.slice(1)]);
  const td15 = (minor: number) =>
    sim.quoteTdx({ mrTd: bytes(48, 4), reportData: bytes(64, 5), teeTcbSvn2: svn2(minor) }, 5);
  const verify = (quote: Uint8Array, edit: BodyEdit): DcapVerdict =>
    fresh().verify(quote, collateralFor("tdx5", { tcbInfo: edit }), at);

  it("advises a relaunch when the platform already runs the up-to-date module", () => {
    const v = verify(td15(6), moduleUpdated());
    assert.equal(v.tcbStatus, "TDRelaunchAdvised");
    assert.equal(v.details.tdxModule?.status, "OutOfDate");
    assert.deepEqual([...v.advisoryIds], ["KEYWARD-TEST-MODULE"]);
  });

  it("keeps the configuration component", () => {
    assert.equal(
      verify(td15(6), moduleUpdated("ConfigurationNeeded")).tcbStatus,
      "TDRelaunchAdvisedConfigurationNeeded",
    );
  });

  it("stays OutOfDate when the running module is not newer, and for TD report 1.0", () => {
    assert.equal(verify(td15(5), moduleUpdated()).tcbStatus, "OutOfDate");
    assert.equal(
      fresh().verify(quotes.tdx4, collateralFor("tdx4", { tcbInfo: moduleUpdated() }), at).tcbStatus,
      "OutOfDate",
    );
  });

  it("stays OutOfDate when the QE is not up to date", () => {
    const qeOld: BodyEdit = (q) => {
      q.tcbLevels[0].tcbStatus = "OutOfDate";
      return q;
    };
    const collateral = parseCollateralJson(
      resignedSimCollateral(dir, "tdx", { tcbInfo: moduleUpdated(), qeIdentity: qeOld }),
    );
    assert.equal(fresh().verify(td15(6), collateral, at).tcbStatus, "OutOfDate");
  });
});
