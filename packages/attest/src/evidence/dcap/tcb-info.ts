/**
 * TCB Info (Intel PCS v4 `tcbInfo`, versions 2 and 3, SGX and TDX): the TCB levels a platform's
 * SVNs are graded against. Parsed from the exact signed bytes.
 *
 * @module
 */
import { KeywardError } from "../../errors/keyward-error.ts";
import { TCB_LEVEL_STATUSES, type TcbLevelStatus } from "../claims.ts";
import { JsonFields } from "./json-fields.ts";

/** The statuses of a TDX module identity's levels (QVL `VALID_MODULE_TCB_STATUSES`). */
export type ModuleTcbStatus = "UpToDate" | "OutOfDate" | "Revoked";
const MODULE_TCB_STATUSES: readonly ModuleTcbStatus[] = ["UpToDate", "OutOfDate", "Revoked"];

/** One TCB level, highest first in `TcbInfo.tcbLevels`. */
export interface TcbLevel {
  /** SGX TCB component SVNs, 16. */
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** TDX TCB component SVNs, 16 (TDX TCB Info only). */
  readonly tdxComponents?: readonly number[];
  readonly tcbDate: string;
  readonly tcbStatus: TcbLevelStatus;
  readonly advisoryIds: readonly string[];
}

/**
 * A level graded on one ISVSVN: of a TDX module identity (on TEE_TCB_SVN[0]) or of QE Identity
 * (on the QE's ISVSVN).
 */
export interface ModuleTcbLevel<S extends TcbLevelStatus = ModuleTcbStatus> {
  readonly isvSvn: number;
  readonly tcbDate: string;
  readonly tcbStatus: S;
  readonly advisoryIds: readonly string[];
}

/** Expected TDX module signer and attributes. */
export interface TdxModule {
  readonly mrSigner: Uint8Array;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
}

/** A TDX module identity (`TDX_01`, `TDX_03`, ...). */
export interface TdxModuleIdentity extends TdxModule {
  readonly id: string;
  readonly tcbLevels: readonly ModuleTcbLevel[];
}

/** Parsed TCB Info. */
export interface TcbInfo {
  readonly id: "SGX" | "TDX";
  readonly version: 2 | 3;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly fmspc: Uint8Array;
  readonly pceId: Uint8Array;
  readonly tcbType: number;
  readonly tcbEvaluationDataNumber: number;
  readonly tdxModule?: TdxModule;
  readonly tdxModuleIdentities: readonly TdxModuleIdentity[];
  /** Highest first, in QVL's order (TcbLevel.cpp: SGX components, PCESVN, TDX components). */
  readonly tcbLevels: readonly TcbLevel[];
}

const MAX_LEVELS = 256;

/**
 * Parses the signed `tcbInfo` body.
 * @throws ERR_DCAP_COLLATERAL_MALFORMED
 */
export function parseTcbInfo(body: Uint8Array): TcbInfo {
  const f = new JsonFields(parseJson(body, "tcbInfo"), "tcbInfo");
  const version = f.integer("version");
  if (version !== 2 && version !== 3) malformed(`version ${version} (2 and 3 are supported)`);
  // v2 TCB Info is SGX only and has no id.
  const id = version === 2 ? "SGX" : f.string("id");
  if (id !== "SGX" && id !== "TDX") malformed(`id "${id}"`);
  const tdx = id === "TDX";
  const tcbLevels = f.array("tcbLevels", MAX_LEVELS).map((l) => {
    let sgxComponents: number[];
    let tdxComponents: number[] | undefined;
    let pceSvn: number;
    const tcb = l.object("tcb");
    if (version === 2) {
      sgxComponents = Array.from({ length: 16 }, (_, i) =>
        tcb.integer(`sgxtcbcomp${String(i + 1).padStart(2, "0")}svn`, 255),
      );
      pceSvn = tcb.integer("pcesvn", 0xffff);
    } else {
      sgxComponents = components(tcb, "sgxtcbcomponents");
      pceSvn = tcb.integer("pcesvn", 0xffff);
      if (tdx) tdxComponents = components(tcb, "tdxtcbcomponents");
    }
    return {
      sgxComponents,
      pceSvn,
      ...(tdxComponents === undefined ? {} : { tdxComponents }),
      tcbDate: tcbDate(l),
      tcbStatus: l.status("tcbStatus", TCB_LEVEL_STATUSES),
      advisoryIds: l.advisoryIds("advisoryIDs"),
    };
  });
  // TcbInfo.cpp: at least one level, and no level twice (QVL keeps them in a set).
  if (tcbLevels.length === 0) malformed("tcbLevels is empty");
  tcbLevels.sort(compareLevels);
  for (let i = 1; i < tcbLevels.length; i++) {
    if (compareLevels(tcbLevels[i - 1] as TcbLevel, tcbLevels[i] as TcbLevel) === 0)
      malformed("a TCB level appears twice");
  }
  // TcbInfo.cpp parsePartV3: the module fields belong to TDX TCB Info, and TDX needs tdxModule.
  if (!tdx && (f.has("tdxModule") || f.has("tdxModuleIdentities")))
    malformed("SGX TCB Info has TDX module fields");
  if (tdx && !f.has("tdxModule")) malformed("TDX TCB Info has no tdxModule");
  const tdxModule = tdx ? moduleFields(f.object("tdxModule")) : undefined;
  const tdxModuleIdentities =
    tdx && f.has("tdxModuleIdentities")
      ? f.array("tdxModuleIdentities", 64).map((m) => ({
          id: m.string("id"),
          ...moduleFields(m),
          tcbLevels: m
            .array("tcbLevels", MAX_LEVELS)
            .map((l) => ({
              isvSvn: l.object("tcb").integer("isvsvn", 255),
              tcbDate: tcbDate(l),
              tcbStatus: l.status("tcbStatus", MODULE_TCB_STATUSES),
              advisoryIds: l.advisoryIds("advisoryIDs"),
            }))
            .sort((a, b) => b.isvSvn - a.isvSvn),
        }))
      : [];
  if (f.has("tdxModuleIdentities") && tdxModuleIdentities.length === 0)
    malformed("tdxModuleIdentities is empty");
  // 4.1.2.7.4: type 0 is the only TCB type (the SVNs of the components, compared one by one).
  const tcbType = f.integer("tcbType");
  if (tcbType !== 0) malformed(`tcbType ${tcbType} (only 0 is defined)`);
  return {
    id,
    version,
    issueDate: f.date("issueDate"),
    nextUpdate: f.date("nextUpdate"),
    fmspc: f.hex("fmspc", 6),
    pceId: f.hex("pceId", 2),
    tcbType,
    tcbEvaluationDataNumber: f.integer("tcbEvaluationDataNumber"),
    ...(tdxModule === undefined ? {} : { tdxModule }),
    tdxModuleIdentities,
    tcbLevels,
  };
}

/** A level's `tcbDate`: an ISO 8601 UTC time (QVL parses it as a date), kept as written. */
export function tcbDate(level: JsonFields): string {
  level.date("tcbDate");
  return level.string("tcbDate");
}

// Descending: SGX components lexicographically, then PCESVN, then TDX components (TcbLevel.cpp).
function compareLevels(a: TcbLevel, b: TcbLevel): number {
  for (let i = 0; i < 16; i++) {
    const d = (b.sgxComponents[i] ?? 0) - (a.sgxComponents[i] ?? 0);
    if (d !== 0) return d;
  }
  if (a.pceSvn !== b.pceSvn) return b.pceSvn - a.pceSvn;
  for (let i = 0; i < 16; i++) {
    const d = (b.tdxComponents?.[i] ?? 0) - (a.tdxComponents?.[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function components(tcb: JsonFields, key: string): number[] {
  return tcb.svns(key, 16, 255);
}

function moduleFields(m: JsonFields): TdxModule {
  return {
    mrSigner: m.hex("mrsigner", 48),
    attributes: m.hex("attributes", 8),
    attributesMask: m.hex("attributesMask", 8),
  };
}

/** Parses collateral JSON from its exact bytes (strict UTF-8). */
export function parseJson(body: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (cause) {
    throw new KeywardError("ERR_DCAP_COLLATERAL_MALFORMED", `${what}: not valid UTF-8 JSON`, { cause });
  }
}

function malformed(message: string): never {
  throw new KeywardError("ERR_DCAP_COLLATERAL_MALFORMED", `tcbInfo: ${message}`);
}
