/**
 * Why a platform got its TCB level: the platform's SVNs from the PCK certificate (and the TD
 * report), each TCB level of TCB Info in Intel's order with the first SVN that keeps it from
 * matching, and the QE's level. For display only: the verdict is the verifier's, and the matched
 * level shown is the one `gradePlatform` (the verifier's own rule) selects.
 *
 * @module
 */
import { toHex } from "@keyward/attest/bytes";
import {
  type DcapCollateral,
  type DcapQuote,
  gradePlatform,
  gradeQe,
  parseQeIdentity,
  parseTcbInfo,
  type TcbLevel,
} from "@keyward/attest/dcap";
import { parsePckExtensions } from "@keyward/attest/x509";
import { certificateChain } from "./quote-fields.ts";

/** One TCB level of TCB Info, and whether (or why not) the platform meets it. */
export interface LevelRow {
  readonly tcbDate: string;
  readonly tcbStatus: string;
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  readonly tdxComponents?: readonly number[];
  readonly advisoryIds: readonly string[];
  /** The level the verifier selected. */
  readonly matched: boolean;
  /** Why the platform does not meet it, or "" when it does. */
  readonly unmet: string;
}

/** The explanation of a platform's TCB level. */
export interface TcbExplanation {
  readonly fmspc: string;
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  readonly teeTcbSvn?: string;
  readonly tcbEvaluationDataNumber: number;
  readonly levels: readonly LevelRow[];
  readonly rule: string;
  readonly qe: {
    readonly isvSvn: number;
    readonly levels: readonly { isvSvn: number; tcbStatus: string; matched: boolean }[];
  };
  readonly module?: { readonly id: string; readonly isvSvn: number; readonly tcbStatus: string };
}

/**
 * Explains the TCB level of `quote` under `collateral`, or undefined when the collateral cannot
 * be read (the verification failed before the TCB level, and says why).
 */
export function explainTcb(quote: DcapQuote, collateral: DcapCollateral): TcbExplanation | undefined {
  try {
    const info = parseTcbInfo(collateral.tcbInfo.body);
    const qeIdentity = parseQeIdentity(collateral.qeIdentity.body);
    const leaf = certificateChain(quote)[0];
    if (leaf === undefined) return undefined;
    const pck = parsePckExtensions(leaf);
    const teeTcbSvn = quote.body.kind === "sgx" ? undefined : quote.body.report.teeTcbSvn;
    const teeTcbSvn2 = quote.body.kind === "sgx" ? undefined : quote.body.report.teeTcbSvn2;
    const platform = {
      sgxComponents: pck.tcb.sgxTcbComponents,
      pceSvn: pck.tcb.pceSvn,
      ...(teeTcbSvn === undefined ? {} : { teeTcbSvn }),
      ...(teeTcbSvn2 === undefined ? {} : { teeTcbSvn2 }),
    };
    let qeLevel: ReturnType<typeof gradeQe> | undefined;
    try {
      qeLevel = gradeQe(qeIdentity, quote.signatureData.qeReport.isvSvn);
    } catch {
      qeLevel = undefined; // no QE level: the QE table says so
    }
    let selected: TcbLevel | undefined;
    let module: TcbExplanation["module"];
    try {
      if (qeLevel !== undefined) {
        const grade = gradePlatform(info, platform, qeLevel);
        selected = grade.tdxLevel ?? grade.sgxLevel;
        if (grade.module !== undefined)
          module = {
            id: grade.module.id,
            isvSvn: grade.module.isvSvn,
            tcbStatus: grade.module.level.tcbStatus,
          };
      }
    } catch {
      selected = undefined; // no level matches, or the matched one is revoked: every row says why
    }
    // With a TDX module major version > 0, TEE_TCB_SVN[0..1] are graded by the module identity.
    const tdxStart = teeTcbSvn !== undefined && (teeTcbSvn[1] ?? 0) > 0 ? 2 : 0;
    const levels = info.tcbLevels.map((l) => ({
      tcbDate: l.tcbDate,
      tcbStatus: l.tcbStatus,
      sgxComponents: l.sgxComponents,
      pceSvn: l.pceSvn,
      ...(l.tdxComponents === undefined ? {} : { tdxComponents: l.tdxComponents }),
      advisoryIds: l.advisoryIds,
      matched: l === selected,
      unmet: unmet(l, platform.sgxComponents, platform.pceSvn, teeTcbSvn, tdxStart),
    }));
    return {
      fmspc: toHex(pck.fmspc),
      sgxComponents: platform.sgxComponents,
      pceSvn: platform.pceSvn,
      ...(teeTcbSvn === undefined ? {} : { teeTcbSvn: toHex(teeTcbSvn) }),
      tcbEvaluationDataNumber: info.tcbEvaluationDataNumber,
      levels,
      rule:
        "TCB levels are taken from the highest; the platform gets the first level whose SGX TCB components and PCESVN" +
        `${teeTcbSvn === undefined ? "" : " (and TDX TCB components)"} are all at or below its own.`,
      qe: {
        isvSvn: quote.signatureData.qeReport.isvSvn,
        levels: qeIdentity.tcbLevels.map((l) => ({
          isvSvn: l.isvSvn,
          tcbStatus: l.tcbStatus,
          matched: l.isvSvn === qeLevel?.isvSvn,
        })),
      },
      ...(module === undefined ? {} : { module }),
    };
  } catch {
    return undefined;
  }
}

function unmet(
  l: TcbLevel,
  sgx: readonly number[],
  pceSvn: number,
  teeTcbSvn: Uint8Array | undefined,
  tdxStart: number,
): string {
  for (const [i, svn] of l.sgxComponents.entries()) {
    const own = sgx[i] ?? 0;
    if (own < svn) return `SGX component ${i}: level needs ${svn}, platform has ${own}`;
  }
  if (pceSvn < l.pceSvn) return `PCESVN: level needs ${l.pceSvn}, platform has ${pceSvn}`;
  if (teeTcbSvn !== undefined) {
    for (const [i, svn] of (l.tdxComponents ?? []).entries()) {
      if (i < tdxStart) continue;
      const own = teeTcbSvn[i] ?? 0;
      if (own < svn) return `TDX component ${i}: level needs ${svn}, platform has ${own}`;
    }
  }
  return "";
}
