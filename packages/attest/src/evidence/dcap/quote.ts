/**
 * Intel DCAP quotes: SGX v3, SGX/TDX v4 and v5, ECDSA P-256 attestation keys. Little-endian
 * integers; ECDSA values big-endian. Layout: Intel "SGX/TDX DCAP Quote Library" reference,
 * `sgx_quote_3.h`, `sgx_quote_4.h`, `sgx_quote_5.h`; checks of QVL `Quote::validate()`.
 *
 * @module
 */
import { ByteReader } from "../../bytes/byte-reader.ts";
import { bytesEqual } from "../../bytes/equal.ts";
import { fromHex } from "../../bytes/hex.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import {
  readSgxReportBody,
  readTdReportBody,
  SGX_REPORT_BODY_SIZE,
  type SgxReportBody,
  TD10_REPORT_BODY_SIZE,
  TD15_REPORT_BODY_SIZE,
  type TdReportBody,
} from "./report-body.ts";

/** ECDSA-256-with-P-256 curve, the only attestation key type verifiers accept. */
export const ATT_KEY_ECDSA_P256 = 2;
/** TEE types of the header. */
export const TEE_SGX = 0x00000000;
export const TEE_TDX = 0x00000081;
/** Intel's QE vendor ID. */
export const INTEL_QE_VENDOR_ID: Uint8Array = fromHex("939a7233f79c4ca9940a0db3957f0607");

const utf8 = new TextDecoder("utf-8", { fatal: true });
const CERT_DATA_PCK_CHAIN = 5;
const CERT_DATA_QE_REPORT = 6;
const MAX_SIGNATURE_DATA = 64 * 1024;
const MAX_CERT_DATA = 48 * 1024;

/** The 48-byte quote header. */
export interface QuoteHeader {
  readonly version: 3 | 4 | 5;
  readonly attestationKeyType: number;
  readonly teeType: typeof TEE_SGX | typeof TEE_TDX;
  /** v3: QE SVN and PCE SVN; reserved in v4/v5. */
  readonly qeSvn: number;
  readonly pceSvn: number;
  readonly qeVendorId: Uint8Array;
  readonly userData: Uint8Array;
}

/** The quote body: an SGX report, or a TD report 1.0 / 1.5. */
export type QuoteBody =
  | { readonly kind: "sgx"; readonly report: SgxReportBody }
  | { readonly kind: "td10"; readonly report: TdReportBody }
  | { readonly kind: "td15"; readonly report: TdReportBody };

/** ECDSA signature data (`sgx_ql_ecdsa_sig_data_t` / `sgx_ecdsa_sig_data_v4_t`). */
export interface QuoteSignatureData {
  /** r‖s over header ‖ body, by the attestation key. */
  readonly signature: Uint8Array;
  /** The attestation public key, X‖Y. */
  readonly attestationKey: Uint8Array;
  /** The QE report exactly as received (what the PCK key signed). */
  readonly qeReportBytes: Uint8Array;
  /** The QE report's fields (read on first use: 384 bytes always hold them). */
  readonly qeReport: SgxReportBody;
  /** r‖s over the QE report, by the PCK key. */
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  /** The outer certification data type: 5 (v3) or 6 wrapping 5 (v4, v5). */
  readonly certificationDataType: 5 | 6;
  /** The PCK certificate chain as received: UTF-8 PEM (certification data type 5). */
  readonly pckChainBytes: Uint8Array;
  /**
   * The PCK certificate chain, PEM (leaf, intermediate CA, root), decoded from `pckChainBytes` on
   * first use.
   * @throws ERR_DCAP_MALFORMED when the bytes are not UTF-8
   */
  readonly pckChainPem: string;
  /**
   * What the QE report, the attestation key and the PCK chain bind: the signature data from the
   * attestation key to the end of the certification data (everything but the quote signature).
   */
  readonly attested: Uint8Array;
}

/** A parsed quote. Byte fields are views into the input. */
export interface DcapQuote {
  readonly header: QuoteHeader;
  readonly body: QuoteBody;
  /** v5 only: the body type (1 SGX, 2 TD 1.0, 3 TD 1.5). */
  readonly bodyType?: number;
  /** Header and body exactly as received: what the attestation key signed. */
  readonly signed: Uint8Array;
  readonly signatureData: QuoteSignatureData;
  /** Zero bytes after the signature data, accepted and counted (real TDX quotes fill fixed buffers). */
  readonly padding: number;
}

/**
 * Parses a DCAP quote and checks its shape; verifies no signature.
 * @throws ERR_BYTES_TRUNCATED, ERR_BYTES_LIMIT, ERR_BYTES_TRAILING, ERR_DCAP_UNSUPPORTED, ERR_DCAP_MALFORMED
 */
export function parseDcapQuote(bytes: Uint8Array): DcapQuote {
  const r = new ByteReader(bytes, "DCAP quote");
  const header = readHeader(r); //                      0 .. 48
  let bodyType: number | undefined;
  let body: QuoteBody;
  if (header.version === 5) {
    bodyType = r.u16le(); //                            48
    const size = r.u32le(); //                          50
    const [expected, tee] =
      bodyType === 1
        ? [SGX_REPORT_BODY_SIZE, TEE_SGX]
        : bodyType === 2
          ? [TD10_REPORT_BODY_SIZE, TEE_TDX]
          : bodyType === 3
            ? [TD15_REPORT_BODY_SIZE, TEE_TDX]
            : unsupported(`v5 body type ${bodyType}`);
    // QVL: the body type must agree with the TEE type, and the size with the type.
    if (tee !== header.teeType)
      malformed(`v5 body type ${bodyType} in a quote of TEE type 0x${header.teeType.toString(16)}`);
    if (size !== expected) malformed(`v5 body size ${size}, body type ${bodyType} needs ${expected}`);
    body = readBody(r, bodyType === 1 ? "sgx" : bodyType === 2 ? "td10" : "td15"); // 54
  } else {
    body = readBody(r, header.teeType === TEE_SGX ? "sgx" : "td10"); //              48
  }
  const signed = bytes.subarray(0, r.offset);
  const signatureData = readSignatureData(
    r.bytes(r.length(r.u32le(), MAX_SIGNATURE_DATA, "signature data")),
    header.version,
  );
  // Real quotes are copied out of fixed-size buffers: 70 and 3065 zero bytes after the signature
  // data were seen. Zeros are accepted and counted; anything else is rejected.
  const padding = r.zeroPadding();
  return { header, body, ...(bodyType === undefined ? {} : { bodyType }), signed, signatureData, padding };
}

/**
 * The length of the quote at the start of `bytes` (header, body and signature data), for formats
 * that append other data after a quote (Open Enclave's evidence).
 * @throws the codes of {@link parseDcapQuote}
 */
export function dcapQuoteLength(bytes: Uint8Array): number {
  const r = new ByteReader(bytes, "DCAP quote");
  const header = readHeader(r);
  if (header.version === 5) {
    r.u16le();
    r.skip(r.length(r.u32le(), TD15_REPORT_BODY_SIZE, "v5 body size"));
  } else {
    r.skip(header.teeType === TEE_SGX ? SGX_REPORT_BODY_SIZE : TD10_REPORT_BODY_SIZE);
  }
  r.skip(r.length(r.u32le(), MAX_SIGNATURE_DATA, "signature data"));
  return r.offset;
}

function readHeader(r: ByteReader): QuoteHeader {
  const version = r.u16le(); //                0
  const attestationKeyType = r.u16le(); //     2
  const teeType = r.u32le(); //                4
  const qeSvn = r.u16le(); //                  8
  const pceSvn = r.u16le(); //                10
  const qeVendorId = r.bytes(16); //          12
  const userData = r.bytes(20); //            28 .. 48
  if (version !== 3 && version !== 4 && version !== 5) unsupported(`version ${version}`);
  if (attestationKeyType !== ATT_KEY_ECDSA_P256) unsupported(`attestation key type ${attestationKeyType}`);
  if (teeType !== TEE_SGX && teeType !== TEE_TDX) unsupported(`TEE type 0x${teeType.toString(16)}`);
  if (version === 3 && teeType !== TEE_SGX) malformed("a v3 quote must be SGX");
  if (!bytesEqual(qeVendorId, INTEL_QE_VENDOR_ID)) unsupported("QE vendor (not Intel)");
  return { version, attestationKeyType, teeType, qeSvn, pceSvn, qeVendorId, userData };
}

function readBody(r: ByteReader, kind: QuoteBody["kind"]): QuoteBody {
  if (kind === "sgx") return { kind, report: readSgxReportBody(r) };
  return { kind, report: readTdReportBody(r, kind === "td15") };
}

function readSignatureData(all: Uint8Array, version: 3 | 4 | 5): QuoteSignatureData {
  const r = new ByteReader(all, "DCAP signature data");
  const signature = r.bytes(64); //                       0
  const attestationKey = r.bytes(64); //                 64
  let certificationDataType: 5 | 6 = CERT_DATA_PCK_CHAIN;
  let qe: ByteReader = r;
  if (version !== 3) {
    // v4/v5: certification data type 6 (QE Report Certification Data) wraps the QE report,
    // its signature, the QE auth data, and the inner certification data (type 5).
    const type = r.u16le(); //                          128
    if (type !== CERT_DATA_QE_REPORT) unsupported(`outer certification data type ${type}`);
    const size = r.length(r.u32le(), MAX_CERT_DATA, "certification data"); // 130
    qe = new ByteReader(r.bytes(size), "QE report certification data"); //   134
    certificationDataType = CERT_DATA_QE_REPORT;
  }
  const qeReportBytes = qe.bytes(SGX_REPORT_BODY_SIZE);
  const qeReportSignature = qe.bytes(64);
  const qeAuthData = qe.bytes(qe.u16le());
  const innerType = qe.u16le();
  if (innerType !== CERT_DATA_PCK_CHAIN)
    unsupported(`certification data type ${innerType} (only the PCK chain, type 5)`);
  const chain = qe.bytes(qe.length(qe.u32le(), MAX_CERT_DATA, "PCK chain"));
  // QVL verifyCertificationData: the parsed size must be the declared size.
  qe.end();
  if (qe !== r) r.end();
  let pckChainPem: string | undefined;
  let qeReport: SgxReportBody | undefined;
  return {
    signature,
    attestationKey,
    qeReportBytes,
    get qeReport() {
      qeReport ??= readSgxReportBody(new ByteReader(qeReportBytes, "QE report"));
      return qeReport;
    },
    qeReportSignature,
    qeAuthData,
    certificationDataType,
    pckChainBytes: chain,
    // Decoded when a verifier needs the text: a warm one recognizes the bytes it verified before.
    get pckChainPem() {
      if (pckChainPem === undefined) {
        try {
          pckChainPem = utf8.decode(chain);
        } catch (cause) {
          throw new KeywardError("ERR_DCAP_MALFORMED", "DCAP quote: PCK chain is not UTF-8 text", { cause });
        }
      }
      return pckChainPem;
    },
    attested: all.subarray(64),
  };
}

function unsupported(what: string): never {
  throw new KeywardError("ERR_DCAP_UNSUPPORTED", `DCAP quote: unsupported ${what}`);
}

function malformed(what: string): never {
  throw new KeywardError("ERR_DCAP_MALFORMED", `DCAP quote: ${what}`);
}
