/**
 * Grading a platform against TCB Info, as Intel's QVL does (TcbLevelCheck.cpp `checkTcbLevel`,
 * TdxModuleCheck.cpp, TDRelaunchCheck.cpp, `convergeTcbStatusWithQeTcbStatus`). `Revoked` is
 * terminal here, as in QVL: a revoked platform, TDX module or QE level throws its own code and
 * never becomes a status.
 *
 * @module
 */
import { KeywardError } from "../../errors/keyward-error.ts";
import type { TcbLevelStatus, TcbStatus } from "../claims.ts";
import type { QeIdentity, QeTcbLevel, QeTcbStatus } from "./qe-identity.ts";
import type { ModuleTcbLevel, TcbInfo, TcbLevel, TdxModule, TdxModuleIdentity } from "./tcb-info.ts";

/** The platform's SVNs, from the PCK certificate (and the TD report for TDX). */
export interface PlatformTcb {
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** TEE_TCB_SVN, 16 bytes (TDX only). */
  readonly teeTcbSvn?: Uint8Array;
  /** TEE_TCB_SVN2, 16 bytes (TD report 1.5 only): the TDX module the TD would run on if relaunched. */
  readonly teeTcbSvn2?: Uint8Array;
}

/** A TDX module identity level that is not revoked. */
export type ModuleLevel = ModuleTcbLevel<"UpToDate" | "OutOfDate">;

/** The outcome of the TCB level check, before the QE is taken into account. */
export interface TcbGrade {
  readonly platformStatus: TcbStatus;
  readonly sgxLevel: TcbLevel;
  readonly tdxLevel?: TcbLevel;
  readonly module?: { readonly id: string; readonly isvSvn: number; readonly level: ModuleLevel };
  readonly advisoryIds: readonly string[];
}

/**
 * Selects the TCB level of the platform and its status (dcap.md §7; QVL 4.1.2.4.17). `qe` is the
 * QE's level, which decides whether a TD 1.5 may be told to relaunch.
 * @throws ERR_DCAP_TCB_NOT_SUPPORTED when no level matches; ERR_DCAP_TCB_REVOKED when the
 *   matched SGX or TDX level is Revoked; ERR_DCAP_TDX_MODULE_REVOKED when the TDX module's level
 *   is Revoked; ERR_DCAP_TDX_MODULE_MISMATCH when the module's identity is missing
 */
export function gradePlatform(info: TcbInfo, tcb: PlatformTcb, qe: QeTcbLevel): TcbGrade {
  const sgxMatch = (l: TcbLevel) =>
    l.sgxComponents.every((svn, i) => (tcb.sgxComponents[i] ?? -1) >= svn) && tcb.pceSvn >= l.pceSvn;
  // `tcbLevels` is in QVL's descending order: the first level the platform meets is its level.
  const sgxLevel = info.tcbLevels.find(sgxMatch);
  if (sgxLevel === undefined) notSupported("no TCB level matches the platform's SGX components and PCESVN");
  // QVL only logs a revoked SGX level of a TDX platform and grades on the TDX level; Keyward ends
  // there for both TEEs: the TD's quoting enclave runs on that SGX TCB.
  const sgxStatus = notRevoked(sgxLevel, "platform");
  if (info.id === "SGX") {
    return { platformStatus: sgxStatus, sgxLevel, advisoryIds: sgxLevel.advisoryIds };
  }
  const svn = tcb.teeTcbSvn;
  if (svn === undefined)
    throw new KeywardError("ERR_DCAP_COLLATERAL_MISMATCH", "TDX TCB Info used for a non-TDX quote");
  // isTdxTcbHigherOrEqual: with a module major version (TEE_TCB_SVN[1]) > 0, components 0 and 1
  // are graded through tdxModuleIdentities instead, so the comparison starts at index 2.
  const start = (svn[1] ?? 0) > 0 ? 2 : 0;
  const tdxLevel = info.tcbLevels.find(
    (l) =>
      sgxMatch(l) &&
      l.tdxComponents?.length === 16 &&
      l.tdxComponents.every((component, i) => i < start || (svn[i] ?? 0) >= component),
  );
  if (tdxLevel === undefined) notSupported("no TCB level matches the platform's TDX TEE_TCB_SVN");
  const tdxLevelStatus = notRevoked(tdxLevel, "platform");
  const module = gradeModule(info, svn);
  let platformStatus =
    module === undefined ? tdxLevelStatus : convergeModule(tdxLevelStatus, module.level.tcbStatus);
  if (tcb.teeTcbSvn2 !== undefined && module?.level.tcbStatus === "OutOfDate") {
    platformStatus = relaunchStatus(info, tcb.teeTcbSvn2, sgxStatus, platformStatus, qe);
  }
  const advisoryIds = [...tdxLevel.advisoryIds, ...(module?.level.advisoryIds ?? [])];
  return { platformStatus, sgxLevel, tdxLevel, ...(module === undefined ? {} : { module }), advisoryIds };
}

/**
 * The TDX module's expected signer and attributes: `tdxModule`, or with a major version > 0 the
 * identity `TDX_%02X` (QVL 4.1.2.4.11).
 * @throws ERR_DCAP_TDX_MODULE_MISMATCH
 */
export function expectedTdxModule(info: TcbInfo, teeTcbSvn: Uint8Array): TdxModule {
  const major = teeTcbSvn[1] ?? 0;
  if (major === 0) {
    if (info.tdxModule === undefined)
      throw new KeywardError("ERR_DCAP_TDX_MODULE_MISMATCH", "TCB Info has no tdxModule");
    return info.tdxModule;
  }
  return moduleIdentity(info, major);
}

/**
 * The QE's TCB level: the first level (highest ISVSVN first) at or below the QE's ISVSVN. It may
 * be Revoked: {@link qeTcbStatusOf} ends verification there, after the platform is graded.
 * @throws ERR_DCAP_TCB_NOT_SUPPORTED (QVL STATUS_SGX_ENCLAVE_REPORT_ISVSVN_NOT_SUPPORTED)
 */
export function gradeQe(identity: QeIdentity, isvSvn: number): QeTcbLevel {
  const level = identity.tcbLevels.find((l) => l.isvSvn <= isvSvn);
  if (level === undefined) notSupported(`no QE Identity TCB level for QE ISVSVN ${isvSvn}`);
  return level;
}

/**
 * The QE level's status, which verification may use.
 * @throws ERR_DCAP_QE_TCB_REVOKED when the QE's level is Revoked (QVL
 *   STATUS_SGX_ENCLAVE_REPORT_ISVSVN_REVOKED, converged into STATUS_TCB_REVOKED)
 */
export function qeTcbStatusOf(level: QeTcbLevel): Exclude<QeTcbStatus, "Revoked"> {
  return notRevoked(level, "qe");
}

/**
 * `convergeTcbStatusWithQeTcbStatus`: the final status from the platform's and the QE's. QVL
 * reads any QE level other than UpToDate (and Revoked, which never gets here) as
 * ISVSVN_OUT_OF_DATE.
 */
export function convergeQe(platform: TcbStatus, qe: Exclude<QeTcbStatus, "Revoked">): TcbStatus {
  return qe === "UpToDate" ? platform : outOfDate(platform);
}

// A level's status, unless it is Revoked: then verification ends with the code of what is revoked.
function notRevoked<S extends TcbLevelStatus>(
  level: { readonly tcbStatus: S; readonly tcbDate: string; readonly advisoryIds: readonly string[] },
  what: "platform" | "qe" | "module",
): Exclude<S, "Revoked"> {
  const status = level.tcbStatus;
  if (status !== "Revoked") return status as Exclude<S, "Revoked">;
  const [code, whose] =
    what === "platform"
      ? (["ERR_DCAP_TCB_REVOKED", "the platform's TCB level"] as const)
      : what === "qe"
        ? (["ERR_DCAP_QE_TCB_REVOKED", "the quoting enclave's QE Identity level"] as const)
        : (["ERR_DCAP_TDX_MODULE_REVOKED", "the TDX module's identity level"] as const);
  const advisories = level.advisoryIds.length === 0 ? "" : ` (${level.advisoryIds.join(", ")})`;
  throw new KeywardError(code, `TCB: ${whose} is Revoked${advisories}: Intel's verification ends here`, {
    detail: { tcbDate: level.tcbDate, advisoryIds: [...level.advisoryIds] },
  });
}

function convergeModule(level: TcbStatus, module: ModuleLevel["tcbStatus"]): TcbStatus {
  return module === "OutOfDate" ? outOfDate(level) : level;
}

function outOfDate(status: TcbStatus): TcbStatus {
  if (status === "UpToDate" || status === "SWHardeningNeeded") return "OutOfDate";
  if (status === "ConfigurationNeeded" || status === "ConfigurationAndSWHardeningNeeded") {
    return "OutOfDateConfigurationNeeded";
  }
  return status;
}

// TDRelaunchCheck.cpp `checkForRelaunch` (TD report 1.5): the module the TD runs on is out of date
// but TEE_TCB_SVN2 says the platform already runs an up-to-date one, so relaunching the TD is
// enough. Only with an up-to-date QE and SGX level; otherwise the status stays as it is.
function relaunchStatus(
  info: TcbInfo,
  svn2: Uint8Array,
  sgx: TcbStatus,
  tdx: TcbStatus,
  qe: QeTcbLevel,
): TcbStatus {
  if (qe.tcbStatus !== "UpToDate") return tdx;
  const sgxFine =
    sgx === "UpToDate" ||
    sgx === "SWHardeningNeeded" ||
    sgx === "ConfigurationNeeded" ||
    sgx === "ConfigurationAndSWHardeningNeeded";
  if (!sgxFine || (tdx !== "OutOfDate" && tdx !== "OutOfDateConfigurationNeeded")) return tdx;
  const latest = info.tcbLevels[0]?.tdxComponents;
  if (latest === undefined) notSupported("TCB Info has no TDX TCB level");
  const minor = svn2[0] ?? 0;
  const major = svn2[1] ?? 0;
  let moduleCurrent: boolean;
  if (major === 0) {
    moduleCurrent = minor >= (latest[0] ?? 0);
  } else {
    const newest = moduleIdentity(info, major).tcbLevels[0];
    if (newest === undefined) notSupported(`TDX module identity TDX_${hex2(major)} has no TCB level`);
    moduleCurrent = minor >= newest.isvSvn;
  }
  if (!moduleCurrent || (svn2[2] ?? 0) < (latest[2] ?? 0)) return tdx;
  const configuration = (s: TcbStatus) =>
    s === "ConfigurationNeeded" ||
    s === "OutOfDateConfigurationNeeded" ||
    s === "ConfigurationAndSWHardeningNeeded";
  return configuration(sgx) || configuration(tdx)
    ? "TDRelaunchAdvisedConfigurationNeeded"
    : "TDRelaunchAdvised";
}

function gradeModule(
  info: TcbInfo,
  svn: Uint8Array,
): { id: string; isvSvn: number; level: ModuleLevel } | undefined {
  const major = svn[1] ?? 0;
  if (major === 0) return undefined;
  const identity = moduleIdentity(info, major);
  const minor = svn[0] ?? 0;
  // Levels are highest ISVSVN first (parseTcbInfo sorts them).
  const level = identity.tcbLevels.find((l) => l.isvSvn <= minor);
  if (level === undefined) notSupported(`no TCB level of ${identity.id} for module ISVSVN ${minor}`);
  const tcbStatus = notRevoked(level, "module");
  return { id: identity.id, isvSvn: minor, level: { ...level, tcbStatus } };
}

function moduleIdentity(info: TcbInfo, major: number): TdxModuleIdentity {
  const id = `TDX_${hex2(major)}`;
  // QVL compares the identity id case-insensitively (TdxModuleCheck.cpp `findTdxModuleIdentity`).
  const identity = info.tdxModuleIdentities.find((m) => m.id.toUpperCase() === id);
  if (identity === undefined) {
    throw new KeywardError("ERR_DCAP_TDX_MODULE_MISMATCH", `TCB Info has no TDX module identity ${id}`, {
      detail: { id },
    });
  }
  return identity;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, "0");
}

function notSupported(message: string): never {
  throw new KeywardError("ERR_DCAP_TCB_NOT_SUPPORTED", `TCB: ${message}`);
}
