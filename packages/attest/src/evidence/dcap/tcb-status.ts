/**
 * Grading a platform against TCB Info, exactly as Intel's QVL does (TcbLevelCheck.cpp
 * `checkTcbLevel`, TdxModuleCheck.cpp, `convergeTcbStatusWithQeTcbStatus`).
 *
 * @module
 */
import { KeywardError } from "../../errors/keyward-error.ts";
import type { TcbStatus } from "../claims.ts";
import type { QeIdentity } from "./qe-identity.ts";
import type { ModuleTcbLevel, TcbInfo, TcbLevel, TdxModule, TdxModuleIdentity } from "./tcb-info.ts";

/** The platform's SVNs, from the PCK certificate (and the TD report for TDX). */
export interface PlatformTcb {
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** TEE_TCB_SVN, 16 bytes (TDX only). */
  readonly teeTcbSvn?: Uint8Array;
}

/** The outcome of the TCB level check. */
export interface TcbGrade {
  /** The platform status before the QE is taken into account. */
  readonly platformStatus: TcbStatus;
  readonly sgxLevel: TcbLevel;
  readonly tdxLevel?: TcbLevel;
  readonly module?: { readonly id: string; readonly isvSvn: number; readonly level: ModuleTcbLevel };
  readonly advisoryIds: readonly string[];
}

/**
 * Selects the TCB level of the platform and its status (dcap.md §7).
 * @throws ERR_DCAP_TCB_NOT_SUPPORTED when no level matches, ERR_DCAP_TDX_MODULE_MISMATCH when
 *   the TDX module identity is missing
 */
export function gradePlatform(info: TcbInfo, tcb: PlatformTcb): TcbGrade {
  const sgxMatch = (l: TcbLevel) =>
    l.sgxComponents.every((svn, i) => (tcb.sgxComponents[i] ?? -1) >= svn) && tcb.pceSvn >= l.pceSvn;
  // QVL keeps the levels in descending order and takes the first that the platform meets.
  const levels = [...info.tcbLevels].sort(compareLevels);
  const sgxLevel = levels.find(sgxMatch);
  if (sgxLevel === undefined) notSupported("no TCB level matches the platform's SGX components and PCESVN");
  if (info.id === "SGX") {
    return { platformStatus: sgxLevel.tcbStatus, sgxLevel, advisoryIds: sgxLevel.advisoryIds };
  }
  const svn = tcb.teeTcbSvn;
  if (svn === undefined)
    throw new KeywardError("ERR_DCAP_COLLATERAL_MISMATCH", "TDX TCB Info used for a non-TDX quote");
  // isTdxTcbHigherOrEqual: with a module major version (TEE_TCB_SVN[1]) > 0, components 0 and 1
  // are graded through tdxModuleIdentities instead, so the comparison starts at index 2.
  const start = (svn[1] ?? 0) > 0 ? 2 : 0;
  const tdxLevel = levels.find(
    (l) =>
      sgxMatch(l) &&
      (l.tdxComponents ?? []).every((component, i) => i < start || (svn[i] ?? 0) >= component) &&
      l.tdxComponents?.length === 16,
  );
  if (tdxLevel === undefined) notSupported("no TCB level matches the platform's TDX TEE_TCB_SVN");
  const module = gradeModule(info, svn);
  const platformStatus =
    module === undefined ? tdxLevel.tcbStatus : convergeModule(tdxLevel.tcbStatus, module.level.tcbStatus);
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
 * The QE's TCB level: the first level (highest ISVSVN first) at or below the QE's ISVSVN.
 * @throws ERR_DCAP_TCB_NOT_SUPPORTED
 */
export function gradeQe(identity: QeIdentity, isvSvn: number): ModuleTcbLevel {
  const level = identity.tcbLevels.find((l) => l.isvSvn <= isvSvn);
  if (level === undefined) notSupported(`no QE Identity TCB level for QE ISVSVN ${isvSvn}`);
  return level;
}

/** convergeTcbStatusWithQeTcbStatus: the final status from the platform's and the QE's. */
export function convergeQe(platform: TcbStatus, qe: TcbStatus): TcbStatus {
  if (qe === "Revoked") return "Revoked";
  if (qe === "OutOfDate") return outOfDate(platform);
  return platform;
}

function convergeModule(level: TcbStatus, module: TcbStatus): TcbStatus {
  if (module === "Revoked") return "Revoked";
  if (module === "OutOfDate") return outOfDate(level);
  return level;
}

function outOfDate(status: TcbStatus): TcbStatus {
  if (status === "UpToDate" || status === "SWHardeningNeeded") return "OutOfDate";
  if (status === "ConfigurationNeeded" || status === "ConfigurationAndSWHardeningNeeded") {
    return "OutOfDateConfigurationNeeded";
  }
  return status;
}

function gradeModule(
  info: TcbInfo,
  svn: Uint8Array,
): { id: string; isvSvn: number; level: ModuleTcbLevel } | undefined {
  const major = svn[1] ?? 0;
  if (major === 0) return undefined;
  const identity = moduleIdentity(info, major);
  const minor = svn[0] ?? 0;
  const level = [...identity.tcbLevels].sort((a, b) => b.isvSvn - a.isvSvn).find((l) => l.isvSvn <= minor);
  if (level === undefined) notSupported(`no TCB level of ${identity.id} for module ISVSVN ${minor}`);
  return { id: identity.id, isvSvn: minor, level };
}

function moduleIdentity(info: TcbInfo, major: number): TdxModuleIdentity {
  const id = `TDX_${major.toString(16).toUpperCase().padStart(2, "0")}`;
  const identity = info.tdxModuleIdentities.find((m) => m.id === id);
  if (identity === undefined) {
    throw new KeywardError("ERR_DCAP_TDX_MODULE_MISMATCH", `TCB Info has no TDX module identity ${id}`, {
      detail: { id },
    });
  }
  return identity;
}

// Descending: SGX components lexicographically, then PCESVN, then TDX components (TcbLevel.cpp).
function compareLevels(a: TcbLevel, b: TcbLevel): number {
  const keys = (l: TcbLevel) => [...l.sgxComponents, l.pceSvn, ...(l.tdxComponents ?? [])];
  const ka = keys(a);
  const kb = keys(b);
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const d = (kb[i] ?? 0) - (ka[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function notSupported(message: string): never {
  throw new KeywardError("ERR_DCAP_TCB_NOT_SUPPORTED", `TCB: ${message}`);
}
