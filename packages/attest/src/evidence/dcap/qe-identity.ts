/**
 * QE Identity (Intel PCS v4 `enclaveIdentity`, version 2; ids QE and TD_QE): what the quoting
 * enclave must be, and the TCB levels of its ISVSVN.
 *
 * @module
 */
import { KeywardError } from "../../errors/keyward-error.ts";
import { JsonFields } from "./json-fields.ts";
import type { ModuleTcbLevel } from "./tcb-info.ts";
import { parseJson, tcbDate } from "./tcb-info.ts";

/** The statuses QE Identity levels may carry (QVL TcbStatus.h `parseStringToTcbStatus`). */
export type QeTcbStatus =
  | "UpToDate"
  | "ConfigurationNeeded"
  | "OutOfDate"
  | "OutOfDateConfigurationNeeded"
  | "Revoked";
const QE_TCB_STATUSES: readonly QeTcbStatus[] = [
  "UpToDate",
  "ConfigurationNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
];

/** A QE Identity TCB level, graded on the QE's ISVSVN. */
export type QeTcbLevel = ModuleTcbLevel<QeTcbStatus>;

/** Parsed QE Identity. */
export interface QeIdentity {
  readonly id: "QE" | "TD_QE";
  readonly version: number;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber: number;
  readonly miscSelect: number;
  readonly miscSelectMask: number;
  /** 16 bytes, in report memory order. */
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  /** Highest ISVSVN first. */
  readonly tcbLevels: readonly QeTcbLevel[];
}

/**
 * Parses the signed `enclaveIdentity` body.
 * @throws ERR_DCAP_COLLATERAL_MALFORMED
 */
export function parseQeIdentity(body: Uint8Array): QeIdentity {
  const f = new JsonFields(parseJson(body, "enclaveIdentity"), "enclaveIdentity");
  const id = f.string("id");
  if (id !== "QE" && id !== "TD_QE") malformed(`id "${id}" is not a quoting enclave`);
  const version = f.integer("version");
  // QvE supports versions 2 and 3 of the identity format.
  if (version !== 2 && version !== 3) malformed(`version ${version}`);
  const tcbLevels = f
    .array("tcbLevels", 256)
    .map((l) => ({
      isvSvn: l.object("tcb").integer("isvsvn", 0xffff),
      tcbDate: tcbDate(l),
      tcbStatus: l.status("tcbStatus", QE_TCB_STATUSES),
      advisoryIds: l.advisoryIds("advisoryIDs"),
    }))
    .sort((a, b) => b.isvSvn - a.isvSvn);
  return {
    id,
    version,
    issueDate: f.date("issueDate"),
    nextUpdate: f.date("nextUpdate"),
    tcbEvaluationDataNumber: f.integer("tcbEvaluationDataNumber"),
    miscSelect: hexU32(f, "miscselect"),
    miscSelectMask: hexU32(f, "miscselectMask"),
    attributes: f.hex("attributes", 16),
    attributesMask: f.hex("attributesMask", 16),
    mrSigner: f.hex("mrsigner", 32),
    isvProdId: f.integer("isvprodid", 0xffff),
    tcbLevels,
  };
}

// MISCSELECT is written as 8 hex digits, most significant first; the report holds it as a u32.
function hexU32(f: JsonFields, key: string): number {
  const b = f.hex(key, 4);
  return (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
}

function malformed(message: string): never {
  throw new KeywardError("ERR_DCAP_COLLATERAL_MALFORMED", `enclaveIdentity: ${message}`);
}
