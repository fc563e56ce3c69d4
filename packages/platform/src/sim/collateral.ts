/**
 * Collateral of the simulated platform, in the exact formats Intel publishes: TCB Info v3 (SGX
 * and TDX) and QE Identity v2 (QE and TD_QE) signed by the TCB Signing key over their exact JSON
 * text, a Root CA CRL and a PCK CRL, assembled as QuoteCollateralV3 JSON.
 *
 * @module
 */
import { type KeyObject, sign } from "node:crypto";
import { toHex } from "@keyward/attest/bytes";
import { toPem } from "@keyward/attest/x509";
import { buildCrl } from "../x509/builders.ts";
import type { SimCertificates } from "./hierarchy.ts";
import {
  PCK_CA_NAME,
  ROOT_NAME,
  SIM_FMSPC,
  SIM_PCE_ID,
  SIM_PCE_SVN,
  SIM_QE,
  SIM_SGX_COMPONENTS,
  SIM_TEE_TCB_SVN,
} from "./profile.ts";

/** Which collateral: SGX (TCB Info "SGX", QE Identity "QE") or TDX ("TDX", "TD_QE"). */
export type SimTee = "sgx" | "tdx";

const ADVISORY_DATE = "2026-01-01T00:00:00Z";
const BACKDATE_MS = 3_600_000;

/** QuoteCollateralV3 JSON text for `tee`, valid from `now` for `validityDays`. */
export function simCollateralJson(
  tee: SimTee,
  certs: SimCertificates,
  keys: { readonly root: KeyObject; readonly pckCa: KeyObject; readonly tcbSigning: KeyObject },
  now: Date,
  validityDays: number,
): string {
  // Issued an hour before `now`, as a PCS's collateral always is by the time it is used: a verifier
  // whose clock is read a moment before the collateral was made (a loaded machine, a test taking
  // its time before the platform's) must still find thisUpdate and issueDate in the past.
  const issued = new Date(Math.floor(now.getTime() / 1000) * 1000 - BACKDATE_MS);
  const issueDate = isoSeconds(issued);
  const nextUpdate = isoSeconds(new Date(now.getTime() + validityDays * 86_400_000));
  const tcbInfo = JSON.stringify(
    tee === "sgx" ? sgxTcbInfo(issueDate, nextUpdate) : tdxTcbInfo(issueDate, nextUpdate),
  );
  const qeIdentity = JSON.stringify(qeIdentityBody(tee, issueDate, nextUpdate));
  const thisUpdate = issued;
  const crlNext = new Date(Math.floor(now.getTime() / 1000) * 1000 + validityDays * 86_400_000);
  const tcbChain = toPem(certs.tcbSigning, "CERTIFICATE") + toPem(certs.root, "CERTIFICATE");
  return JSON.stringify(
    {
      pck_crl_issuer_chain: toPem(certs.pckCa, "CERTIFICATE") + toPem(certs.root, "CERTIFICATE"),
      root_ca_crl: toHex(
        buildCrl({
          issuer: ROOT_NAME,
          thisUpdate,
          nextUpdate: crlNext,
          revoked: [],
          crlNumber: 1,
          signingKey: keys.root,
        }),
      ),
      pck_crl: toHex(
        buildCrl({
          issuer: PCK_CA_NAME,
          thisUpdate,
          nextUpdate: crlNext,
          revoked: [],
          crlNumber: 1,
          signingKey: keys.pckCa,
        }),
      ),
      tcb_info_issuer_chain: tcbChain,
      tcb_info: tcbInfo,
      tcb_info_signature: signRaw(keys.tcbSigning, tcbInfo),
      qe_identity_issuer_chain: tcbChain,
      qe_identity: qeIdentity,
      qe_identity_signature: signRaw(keys.tcbSigning, qeIdentity),
    },
    null,
    1,
  );
}

function sgxLevel(
  status: string,
  components: readonly number[],
  pcesvn: number,
  advisories: readonly string[],
) {
  return {
    tcb: { sgxtcbcomponents: components.map((svn) => ({ svn })), pcesvn },
    tcbDate: ADVISORY_DATE,
    tcbStatus: status,
    ...(advisories.length === 0 ? {} : { advisoryIDs: advisories }),
  };
}

function sgxTcbInfo(issueDate: string, nextUpdate: string) {
  return {
    id: "SGX",
    version: 3,
    issueDate,
    nextUpdate,
    fmspc: toHex(SIM_FMSPC),
    pceId: toHex(SIM_PCE_ID),
    tcbType: 0,
    tcbEvaluationDataNumber: 1,
    tcbLevels: [
      sgxLevel("UpToDate", SIM_SGX_COMPONENTS, SIM_PCE_SVN, []),
      sgxLevel(
        "OutOfDate",
        SIM_SGX_COMPONENTS.map((c) => Math.max(0, c - 1)),
        SIM_PCE_SVN - 1,
        ["KEYWARD-SIM-00001"],
      ),
    ],
  };
}

function tdxTcbInfo(issueDate: string, nextUpdate: string) {
  const tdxComponents = SIM_TEE_TCB_SVN.map((svn, i) => ({ svn: i < 2 ? 0 : svn }));
  const zeros48 = "0".repeat(96);
  return {
    id: "TDX",
    version: 3,
    issueDate,
    nextUpdate,
    fmspc: toHex(SIM_FMSPC),
    pceId: toHex(SIM_PCE_ID),
    tcbType: 0,
    tcbEvaluationDataNumber: 1,
    tdxModule: { mrsigner: zeros48, attributes: "0000000000000000", attributesMask: "FFFFFFFFFFFFFFFF" },
    tdxModuleIdentities: [
      {
        id: "TDX_01",
        mrsigner: zeros48,
        attributes: "0000000000000000",
        attributesMask: "FFFFFFFFFFFFFFFF",
        tcbLevels: [
          { tcb: { isvsvn: SIM_TEE_TCB_SVN[0] }, tcbDate: ADVISORY_DATE, tcbStatus: "UpToDate" },
          {
            tcb: { isvsvn: 0 },
            tcbDate: ADVISORY_DATE,
            tcbStatus: "OutOfDate",
            advisoryIDs: ["KEYWARD-SIM-00002"],
          },
        ],
      },
    ],
    tcbLevels: [
      {
        ...sgxLevel("UpToDate", SIM_SGX_COMPONENTS, SIM_PCE_SVN, []),
        tcb: {
          sgxtcbcomponents: SIM_SGX_COMPONENTS.map((svn) => ({ svn })),
          pcesvn: SIM_PCE_SVN,
          tdxtcbcomponents: tdxComponents,
        },
      },
    ],
  };
}

function qeIdentityBody(tee: SimTee, issueDate: string, nextUpdate: string) {
  return {
    id: tee === "sgx" ? "QE" : "TD_QE",
    version: 2,
    issueDate,
    nextUpdate,
    tcbEvaluationDataNumber: 1,
    miscselect: "00000000",
    miscselectMask: "FFFFFFFF",
    attributes: SIM_QE.identityAttributes,
    attributesMask: SIM_QE.identityAttributesMask,
    mrsigner: toHex(SIM_QE.mrSigner).toUpperCase(),
    isvprodid: tee === "sgx" ? SIM_QE.isvProdIdSgx : SIM_QE.isvProdIdTdx,
    tcbLevels: [{ tcb: { isvsvn: SIM_QE.isvSvn }, tcbDate: ADVISORY_DATE, tcbStatus: "UpToDate" }],
  };
}

function signRaw(key: KeyObject, text: string): string {
  return toHex(
    new Uint8Array(sign("sha256", new TextEncoder().encode(text), { key, dsaEncoding: "ieee-p1363" })),
  );
}

function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}
