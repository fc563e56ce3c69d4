/**
 * The report bodies a DCAP quote carries: the SGX enclave report (`sgx_report_body_t`, 384 bytes;
 * also the QE report) and the TD report 1.0 / 1.5 (`sgx_report2_body_t`, 584 / 648 bytes).
 * Layouts: Intel SGX/TDX DCAP Quote Library reference, "Quote Format"; offsets are relative.
 *
 * @module
 */
import type { ByteReader } from "../../bytes/byte-reader.ts";

/** SGX enclave report body. Byte fields are views into the quote. */
export interface SgxReportBody {
  readonly cpuSvn: Uint8Array;
  readonly miscSelect: number;
  readonly isvExtProdId: Uint8Array;
  /** ATTRIBUTES: flags (u64 LE) ‖ XFRM (u64 LE), as received. */
  readonly attributes: Uint8Array;
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly configId: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly configSvn: number;
  readonly isvFamilyId: Uint8Array;
  readonly reportData: Uint8Array;
}

/** TD report body (1.0, and 1.5 when `teeTcbSvn2` is present). */
export interface TdReportBody {
  readonly teeTcbSvn: Uint8Array;
  readonly mrSeam: Uint8Array;
  readonly mrSignerSeam: Uint8Array;
  readonly seamAttributes: Uint8Array;
  readonly tdAttributes: Uint8Array;
  readonly xfam: Uint8Array;
  readonly mrTd: Uint8Array;
  readonly mrConfigId: Uint8Array;
  readonly mrOwner: Uint8Array;
  readonly mrOwnerConfig: Uint8Array;
  readonly rtmr: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  readonly reportData: Uint8Array;
  readonly teeTcbSvn2?: Uint8Array;
  readonly mrServiceTd?: Uint8Array;
}

/** Size of an SGX report body. */
export const SGX_REPORT_BODY_SIZE = 384;
/** Size of a TD report 1.0 body. */
export const TD10_REPORT_BODY_SIZE = 584;
/** Size of a TD report 1.5 body. */
export const TD15_REPORT_BODY_SIZE = 648;

/** Reads a 384-byte SGX report body. */
export function readSgxReportBody(r: ByteReader): SgxReportBody {
  const cpuSvn = r.bytes(16); //          0
  const miscSelect = r.u32le(); //       16
  r.skip(12); //                          20  reserved
  const isvExtProdId = r.bytes(16); //   32
  const attributes = r.bytes(16); //     48
  const mrEnclave = r.bytes(32); //      64
  r.skip(32); //                          96  reserved
  const mrSigner = r.bytes(32); //      128
  r.skip(32); //                         160  reserved
  const configId = r.bytes(64); //      192
  const isvProdId = r.u16le(); //       256
  const isvSvn = r.u16le(); //          258
  const configSvn = r.u16le(); //       260
  r.skip(42); //                         262  reserved
  const isvFamilyId = r.bytes(16); //   304
  const reportData = r.bytes(64); //    320 .. 384
  return {
    cpuSvn,
    miscSelect,
    isvExtProdId,
    attributes,
    mrEnclave,
    mrSigner,
    configId,
    isvProdId,
    isvSvn,
    configSvn,
    isvFamilyId,
    reportData,
  };
}

/** Reads a TD report body; `v15` adds TEE_TCB_SVN2 and MRSERVICETD (648 bytes instead of 584). */
export function readTdReportBody(r: ByteReader, v15: boolean): TdReportBody {
  const teeTcbSvn = r.bytes(16); //       0
  const mrSeam = r.bytes(48); //         16
  const mrSignerSeam = r.bytes(48); //   64
  const seamAttributes = r.bytes(8); // 112
  const tdAttributes = r.bytes(8); //   120
  const xfam = r.bytes(8); //           128
  const mrTd = r.bytes(48); //          136
  const mrConfigId = r.bytes(48); //    184
  const mrOwner = r.bytes(48); //       232
  const mrOwnerConfig = r.bytes(48); // 280
  const rtmr = [r.bytes(48), r.bytes(48), r.bytes(48), r.bytes(48)] as const; // 328
  const reportData = r.bytes(64); //    520 .. 584
  const base = {
    teeTcbSvn,
    mrSeam,
    mrSignerSeam,
    seamAttributes,
    tdAttributes,
    xfam,
    mrTd,
    mrConfigId,
    mrOwner,
    mrOwnerConfig,
    rtmr,
    reportData,
  };
  if (!v15) return base;
  const teeTcbSvn2 = r.bytes(16); //    584
  const mrServiceTd = r.bytes(48); //   600 .. 648
  return { ...base, teeTcbSvn2, mrServiceTd };
}
