/**
 * From report bodies to the normalized claims model.
 *
 * @module
 */
import type { SgxClaims, TdxClaims } from "../claims.ts";
import type { SgxReportBody, TdReportBody } from "./report-body.ts";

/** Claims of an SGX enclave report. */
export function sgxClaimsOf(r: SgxReportBody): SgxClaims {
  const flags = r.attributes[0] ?? 0;
  return {
    tee: "sgx",
    mrEnclave: r.mrEnclave,
    mrSigner: r.mrSigner,
    isvProdId: r.isvProdId,
    isvSvn: r.isvSvn,
    attributes: r.attributes,
    debug: (flags & 0x02) !== 0, // ATTRIBUTES.DEBUG, flags bit 1
    mode64Bit: (flags & 0x04) !== 0, // ATTRIBUTES.MODE64BIT, flags bit 2
    miscSelect: r.miscSelect,
    cpuSvn: r.cpuSvn,
    configId: r.configId,
    configSvn: r.configSvn,
    isvExtProdId: r.isvExtProdId,
    isvFamilyId: r.isvFamilyId,
    reportData: r.reportData,
  };
}

/** Claims of a TD report. */
export function tdxClaimsOf(r: TdReportBody): TdxClaims {
  return {
    tee: "tdx",
    teeTcbSvn: r.teeTcbSvn,
    mrSeam: r.mrSeam,
    mrSignerSeam: r.mrSignerSeam,
    seamAttributes: r.seamAttributes,
    tdAttributes: r.tdAttributes,
    debug: ((r.tdAttributes[0] ?? 0) & 0x01) !== 0, // TUD.DEBUG, bit 0
    septVeDisable: ((r.tdAttributes[3] ?? 0) & 0x10) !== 0, // SEPT_VE_DISABLE, bit 28
    xfam: r.xfam,
    mrTd: r.mrTd,
    mrConfigId: r.mrConfigId,
    mrOwner: r.mrOwner,
    mrOwnerConfig: r.mrOwnerConfig,
    rtmr: r.rtmr,
    reportData: r.reportData,
    ...(r.teeTcbSvn2 === undefined ? {} : { teeTcbSvn2: r.teeTcbSvn2 }),
    ...(r.mrServiceTd === undefined ? {} : { mrServiceTd: r.mrServiceTd }),
  };
}
