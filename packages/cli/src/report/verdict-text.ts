/**
 * A verified quote as a person reads it: the TEE and quote version, the measurements a policy
 * would pin, the report data, the TCB status in words with its advisories, how long the collateral
 * holds, the platform, and the verdict. `keyward quote verify` and `keyward ratls verify` print it,
 * and the HTML report shows the same rows.
 *
 * @module
 */

import type { Appraisal } from "@keyward/attest/appraisal";
import { toHex } from "@keyward/attest/bytes";
import type { DcapVerdict } from "@keyward/attest/dcap";
import { advisoriesMeaning, tcbMeaning } from "./tcb-words.ts";

/** One row of the summary. */
export interface SummaryRow {
  readonly label: string;
  readonly value: string;
  /** Further lines under the value. */
  readonly more?: readonly string[];
}

/** The overall outcome. */
export interface Outcome {
  readonly kind: "accepted" | "rejected" | "verified" | "failed";
  readonly text: string;
}

/** The line that says what was decided. */
export function outcomeOf(appraisal: Appraisal | undefined, policySource?: string): Outcome {
  if (appraisal === undefined)
    return { kind: "verified", text: "signature chain verified; not appraised against a policy" };
  const from = policySource === undefined ? "" : ` (${policySource})`;
  if (appraisal.accepted)
    return { kind: "accepted", text: `accepted by policy ${appraisal.policyId}${from}` };
  return {
    kind: "rejected",
    text: `REJECTED by policy ${appraisal.policyId}${from}: ${appraisal.failed.map((f) => f.rule).join(", ")}`,
  };
}

/** The summary rows of a verdict verified at `at`. */
export function summaryRows(v: DcapVerdict, at: Date): SummaryRow[] {
  const c = v.claims;
  const rows: SummaryRow[] = [
    { label: "TEE", value: `${v.tee.toUpperCase()}, quote version ${v.quoteVersion}` },
  ];
  if (c.tee === "sgx") {
    rows.push(
      { label: "MRENCLAVE", value: toHex(c.mrEnclave) },
      { label: "MRSIGNER", value: toHex(c.mrSigner) },
      { label: "ISV product ID", value: String(c.isvProdId) },
      { label: "ISV SVN", value: String(c.isvSvn) },
    );
  } else {
    rows.push({ label: "MRTD", value: toHex(c.mrTd) });
    c.rtmr.forEach((r, i) => {
      rows.push({ label: `RTMR${i}`, value: toHex(r) });
    });
  }
  rows.push(
    { label: "debug", value: c.debug ? "YES (a debug enclave: its memory can be read by the host)" : "no" },
    { label: "report data", value: toHex(c.reportData) },
  );
  const advisories = v.advisoryIds.length === 0 ? "" : ` (${v.advisoryIds.join(", ")})`;
  rows.push({
    label: "TCB status",
    value: `${v.tcbStatus}${advisories}`,
    more: [
      tcbMeaning(v.tcbStatus),
      ...(v.advisoryIds.length === 0 ? [] : [advisoriesMeaning(v.advisoryIds)]),
    ],
  });
  const d = v.details;
  rows.push({
    label: "TCB level",
    value: `platform ${d.platformTcbStatus} (TCB date ${d.tcbDate}), QE ${d.qeTcbStatus}${
      d.tdxModule === undefined
        ? ""
        : `, TDX module ${d.tdxModule.id} SVN ${d.tdxModule.isvSvn} ${d.tdxModule.status}`
    }; TCB evaluation data number ${d.tcbEvaluationDataNumber}`,
  });
  rows.push({
    label: "collateral",
    value: `valid until ${v.validUntil.toISOString()}; verified as of ${at.toISOString()}`,
    more: [
      "the earliest expiry of TCB Info, QE Identity, the CRLs and the certificates the verdict rests on",
    ],
  });
  rows.push({
    label: "platform",
    value:
      v.platform === "hardware"
        ? "hardware (chain to Intel's SGX Root CA)"
        : "SIMULATED (Keyward's simulation root: development only, no hardware protection)",
  });
  return rows;
}

/** Emphasis for the text form (colour on a terminal); identity by default. */
export type Emphasis = (kind: Outcome["kind"] | "fail", text: string) => string;

/** The rows as aligned text (with the outcome last). */
export function summaryText(
  rows: readonly SummaryRow[],
  appraisal: Appraisal | undefined,
  outcome: Outcome,
  emphasis: Emphasis = (_k, t) => t,
): string {
  const width = Math.max(...rows.map((r) => r.label.length), "verdict".length) + 2;
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${r.label.padEnd(width)}${r.value}`);
    for (const m of r.more ?? []) out.push(`${" ".repeat(width)}${m}`);
  }
  if (appraisal !== undefined) {
    out.push(`${"policy".padEnd(width)}${appraisal.policyId}`);
    for (const r of appraisal.results)
      out.push(
        `${" ".repeat(width)}${r.passed ? "pass" : emphasis("fail", "FAIL")} ${r.rule}: expected ${r.expected}; actual ${r.actual}`,
      );
  }
  out.push(`${"verdict".padEnd(width)}${emphasis(outcome.kind, outcome.text)}`);
  return `${out.join("\n")}\n`;
}
