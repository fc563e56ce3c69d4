/**
 * Byte-exact DCAP quotes from the simulated platform: v3 (SGX) and v4/v5 (TDX), ECDSA P-256,
 * certification data type 5 (v3) or 6 wrapping 5 (v4, v5). The layout is the one parseDcapQuote
 * reads (Intel `sgx_quote_3.h` / `sgx_quote_4.h` / `sgx_quote_5.h`).
 *
 * @module
 */
import { createHash, createPublicKey, type KeyObject, sign } from "node:crypto";
import { concatBytes } from "@keyward/attest/bytes";
import { p256ToRaw } from "@keyward/attest/crypto";
import type { SgxReportBody } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { QE_VENDOR_ID, SIM_PCE_SVN, SIM_QE, SIM_SGX_COMPONENTS, SIM_TEE_TCB_SVN } from "./profile.ts";

/** What the launcher (playing the CPU) puts in an SGX report. */
export interface SgxReportInput {
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  /** 16 bytes; flags bit 1 is DEBUG. Default: INIT | MODE64BIT. */
  readonly attributes?: Uint8Array;
  readonly reportData: Uint8Array;
  readonly miscSelect?: number;
  readonly configId?: Uint8Array;
  readonly configSvn?: number;
  readonly isvExtProdId?: Uint8Array;
  readonly isvFamilyId?: Uint8Array;
}

/** What goes in a TD report. */
export interface TdReportInput {
  readonly mrTd: Uint8Array;
  readonly rtmr?: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  readonly reportData: Uint8Array;
  /** 8 bytes; bit 0 is DEBUG, bit 28 SEPT_VE_DISABLE. Default: SEPT_VE_DISABLE. */
  readonly tdAttributes?: Uint8Array;
  readonly xfam?: Uint8Array;
  readonly mrConfigId?: Uint8Array;
  readonly mrOwner?: Uint8Array;
  readonly mrOwnerConfig?: Uint8Array;
  readonly mrServiceTd?: Uint8Array;
  /**
   * TEE_TCB_SVN2 (16 bytes, TD report 1.5 only): the TDX module the platform runs now, after an
   * in-place update. Default: the module the TD was launched on (TEE_TCB_SVN).
   */
  readonly teeTcbSvn2?: Uint8Array;
}

/** The keys and PEM chain a quote is signed with. */
export interface QuotingKeys {
  readonly attestation: KeyObject;
  readonly pck: KeyObject;
  /** PCK leaf, PCK CA, root, PEM. */
  readonly pckChainPem: string;
}

const DEFAULT_ATTRIBUTES = Uint8Array.of(0x05, 0, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0);
const DEFAULT_TD_ATTRIBUTES = Uint8Array.of(0, 0, 0, 0x10, 0, 0, 0, 0);
const DEFAULT_XFAM = Uint8Array.of(0xe7, 0x1a, 0x06, 0, 0, 0, 0, 0);

/** A v3 SGX quote. */
export function buildSgxQuote(report: SgxReportInput, keys: QuotingKeys): Uint8Array {
  const header = quoteHeader(3, 0x00000000, keys);
  const body = sgxReportBody({
    cpuSvn: Uint8Array.from(SIM_SGX_COMPONENTS),
    miscSelect: report.miscSelect ?? 0,
    isvExtProdId: report.isvExtProdId ?? new Uint8Array(16),
    attributes: report.attributes ?? DEFAULT_ATTRIBUTES,
    mrEnclave: report.mrEnclave,
    mrSigner: report.mrSigner,
    configId: report.configId ?? new Uint8Array(64),
    isvProdId: report.isvProdId,
    isvSvn: report.isvSvn,
    configSvn: report.configSvn ?? 0,
    isvFamilyId: report.isvFamilyId ?? new Uint8Array(16),
    reportData: report.reportData,
  });
  return assemble(3, header, body, keys, SIM_QE.isvProdIdSgx);
}

/** A v4 (TD report 1.0) or v5 (TD report 1.5) TDX quote. */
export function buildTdxQuote(report: TdReportInput, keys: QuotingKeys, version: 4 | 5 = 4): Uint8Array {
  const header = quoteHeader(version, 0x00000081, keys);
  const zero48 = new Uint8Array(48);
  const rtmr = report.rtmr ?? [zero48, zero48, zero48, zero48];
  const parts = [
    Uint8Array.from(SIM_TEE_TCB_SVN), //                           0  TEE_TCB_SVN
    createHash("sha384").update("Keyward simulated TDX module").digest(), // 16  MRSEAM
    zero48, //                                                     64  MRSIGNERSEAM (Intel module: zero)
    new Uint8Array(8), //                                         112  SEAMATTRIBUTES
    fixed(report.tdAttributes ?? DEFAULT_TD_ATTRIBUTES, 8, "TDATTRIBUTES"), // 120
    fixed(report.xfam ?? DEFAULT_XFAM, 8, "XFAM"), //               128
    fixed(report.mrTd, 48, "MRTD"), //                            136
    fixed(report.mrConfigId ?? zero48, 48, "MRCONFIGID"), //       184
    fixed(report.mrOwner ?? zero48, 48, "MROWNER"), //             232
    fixed(report.mrOwnerConfig ?? zero48, 48, "MROWNERCONFIG"), // 280
    ...rtmr.map((r, i) => fixed(r, 48, `RTMR${i}`)), //            328
    fixed(report.reportData, 64, "REPORTDATA"), //                 520 .. 584
  ];
  if (version === 5)
    parts.push(
      fixed(report.teeTcbSvn2 ?? Uint8Array.from(SIM_TEE_TCB_SVN), 16, "TEE_TCB_SVN2"), // 584
      fixed(report.mrServiceTd ?? zero48, 48, "MRSERVICETD"), //                       600 .. 648
    );
  let body = concatBytes(...parts);
  if (version === 5) body = concatBytes(u16(3), u32(body.byteLength), body); // body type 3: TD report 1.5
  return assemble(version, header, body, keys, SIM_QE.isvProdIdTdx);
}

function quoteHeader(version: number, teeType: number, keys: QuotingKeys): Uint8Array {
  // user_data: the QE ID (16 bytes) and 4 zero bytes, as Intel's QE writes it.
  const qeId = createHash("sha256")
    .update(p256ToRaw(publicOf(keys.attestation)))
    .digest()
    .subarray(0, 16);
  return concatBytes(
    u16(version), //                      0
    u16(2), //                            2  ECDSA-256-with-P-256
    u32(teeType), //                      4
    u16(version === 3 ? SIM_QE.isvSvn : 0), // 8  QE SVN (v3), reserved
    u16(version === 3 ? SIM_PCE_SVN : 0), // 10  PCE SVN (v3), reserved
    QE_VENDOR_ID, //                     12
    qeId, //                             28
    new Uint8Array(4), //                44 .. 48
  );
}

function assemble(
  version: number,
  header: Uint8Array,
  body: Uint8Array,
  keys: QuotingKeys,
  qeProdId: number,
): Uint8Array {
  const signed = concatBytes(header, body);
  const signature = p1363(keys.attestation, signed);
  const attestationKey = p256ToRaw(publicOf(keys.attestation));
  const authData = new Uint8Array(createHash("sha256").update("Keyward simulated QE auth data").digest());
  const reportData = concatBytes(
    createHash("sha256").update(attestationKey).update(authData).digest(),
    new Uint8Array(32),
  );
  const qeReport = sgxReportBody({
    cpuSvn: Uint8Array.from(SIM_SGX_COMPONENTS),
    miscSelect: 0,
    isvExtProdId: new Uint8Array(16),
    attributes: SIM_QE.attributes,
    mrEnclave: new Uint8Array(createHash("sha256").update("Keyward simulated QE").digest()),
    mrSigner: SIM_QE.mrSigner,
    configId: new Uint8Array(64),
    isvProdId: qeProdId,
    isvSvn: SIM_QE.isvSvn,
    configSvn: 0,
    isvFamilyId: new Uint8Array(16),
    reportData,
  });
  const chain = new TextEncoder().encode(keys.pckChainPem);
  const qeCertification = concatBytes(
    qeReport,
    p1363(keys.pck, qeReport),
    u16(authData.byteLength),
    authData,
    u16(5), // PCK certificate chain
    u32(chain.byteLength),
    chain,
  );
  const signatureData =
    version === 3
      ? concatBytes(signature, attestationKey, qeCertification)
      : concatBytes(signature, attestationKey, u16(6), u32(qeCertification.byteLength), qeCertification);
  return concatBytes(signed, u32(signatureData.byteLength), signatureData);
}

// The inverse of readSgxReportBody: the same fields, written in the same layout.
function sgxReportBody(f: SgxReportBody): Uint8Array {
  return concatBytes(
    fixed(f.cpuSvn, 16, "CPUSVN"), //                0
    u32(f.miscSelect), //                          16
    new Uint8Array(12), //                         20
    fixed(f.isvExtProdId, 16, "ISVEXTPRODID"), //  32
    fixed(f.attributes, 16, "ATTRIBUTES"), //      48
    fixed(f.mrEnclave, 32, "MRENCLAVE"), //        64
    new Uint8Array(32), //                         96
    fixed(f.mrSigner, 32, "MRSIGNER"), //         128
    new Uint8Array(32), //                        160
    fixed(f.configId, 64, "CONFIGID"), //         192
    u16(f.isvProdId), //                          256
    u16(f.isvSvn), //                             258
    u16(f.configSvn), //                          260
    new Uint8Array(42), //                        262
    fixed(f.isvFamilyId, 16, "ISVFAMILYID"), //   304
    fixed(f.reportData, 64, "REPORTDATA"), //     320 .. 384
  );
}

function fixed(bytes: Uint8Array, n: number, field: string): Uint8Array {
  if (bytes.byteLength !== n) {
    throw new KeywardError(
      "ERR_INPUT_INVALID",
      `simulated quote: ${field} must be ${n} bytes, got ${bytes.byteLength}`,
    );
  }
  return bytes;
}

function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff)
    throw new KeywardError("ERR_INPUT_INVALID", `simulated quote: ${n} is not a u16`);
  return Uint8Array.of(n & 0xff, n >> 8);
}

function u32(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
}

function p1363(key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign("sha256", data, { key, dsaEncoding: "ieee-p1363" }));
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === "private" ? createPublicKey(key) : key;
}
