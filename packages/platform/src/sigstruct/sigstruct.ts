/**
 * SGX SIGSTRUCT (Intel SDM Vol. 3D §38.13, SDK `css_header_t`/`css_body_t`): the 1808-byte
 * structure a signing tool (SGX SDK `sgx_sign`, `gramine-sgx-sign`) writes for EINIT. Parsed with
 * the bounded reader, its RSA-3072 signature verified, and the parts the signature does not cover
 * (reserved bytes, Q1, Q2) checked separately.
 *
 * @module
 */
import { createHash, createPublicKey, verify } from "node:crypto";
import { ByteReader, bytesEqual, fromHex, isAllZero, toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";

/** A parsed SIGSTRUCT. Little-endian fields are as stored; byte fields are views. */
export interface Sigstruct {
  readonly bytes: Uint8Array;
  readonly vendor: number;
  /** The signing date, ISO yyyy-mm-dd, and how it was encoded. */
  readonly date: { readonly iso: string; readonly encoding: "bcd" | "legacy" };
  readonly swDefined: number;
  /** RSA-3072 modulus, little-endian as stored. */
  readonly modulus: Uint8Array;
  readonly exponent: number;
  /** Signature, little-endian as stored. */
  readonly signature: Uint8Array;
  readonly miscSelect: number;
  readonly miscMask: number;
  readonly isvFamilyId: Uint8Array;
  /** ATTRIBUTES: FLAGS (u64 LE) ‖ XFRM (u64 LE). */
  readonly attributes: Uint8Array;
  readonly attributeMask: Uint8Array;
  /** ENCLAVEHASH = the enclave's MRENCLAVE. */
  readonly mrEnclave: Uint8Array;
  readonly isvExtProdId: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly q1: Uint8Array;
  readonly q2: Uint8Array;
  /** SHA-256 of the modulus as stored: what the CPU puts in MRSIGNER. */
  readonly mrSigner: Uint8Array;
  /** The 256 signed bytes: 0..128 ‖ 900..1028. */
  readonly signed: Uint8Array;
  readonly debug: boolean;
}

const SIZE = 1808;
const HEADER = fromHex("06000000e10000000000010000000000");
const HEADER2 = fromHex("01010000600000006000000001000000");

/**
 * Parses a SIGSTRUCT and checks its fixed fields.
 * @throws ERR_SIGSTRUCT_MALFORMED, ERR_BYTES_*
 */
export function parseSigstruct(bytes: Uint8Array): Sigstruct {
  if (bytes.byteLength !== SIZE) malformed(`${bytes.byteLength} bytes, a SIGSTRUCT has ${SIZE}`);
  const r = new ByteReader(bytes, "SIGSTRUCT");
  const header = r.bytes(16); //               0
  const vendor = r.u32le(); //                16
  const dateBytes = r.bytes(4); //            20
  const header2 = r.bytes(16); //             24
  const swDefined = r.u32le(); //             40
  const reserved1 = r.bytes(84); //           44
  const modulus = r.bytes(384); //           128
  const exponent = r.u32le(); //             512
  const signature = r.bytes(384); //         516
  const miscSelect = r.u32le(); //           900
  const miscMask = r.u32le(); //             904
  r.skip(4); //                              908  CET attributes (reserved here)
  const isvFamilyId = r.bytes(16); //        912
  const attributes = r.bytes(16); //         928
  const attributeMask = r.bytes(16); //      944
  const mrEnclave = r.bytes(32); //          960
  const reserved3 = r.bytes(16); //          992
  const isvExtProdId = r.bytes(16); //      1008
  const isvProdId = r.u16le(); //           1024
  const isvSvn = r.u16le(); //              1026
  const reserved4 = r.bytes(12); //         1028
  const q1 = r.bytes(384); //               1040
  const q2 = r.bytes(384); //               1424 .. 1808
  r.end();
  if (!bytesEqual(header, HEADER)) malformed("HEADER is not 06000000E1000000 00000100 00000000");
  if (!bytesEqual(header2, HEADER2)) malformed("HEADER2 is not 01010000 60000000 60000000 01000000");
  if (vendor !== 0 && vendor !== 0x8086) malformed(`VENDOR 0x${vendor.toString(16)} is neither 0 nor Intel`);
  if (exponent !== 3) malformed(`EXPONENT ${exponent}, SGX requires 3`);
  if (!isAllZero(reserved1) || !isAllZero(reserved3)) malformed("reserved bytes are not zero");
  if (!isAllZero(reserved4))
    malformed("reserved bytes 1028..1039 (not covered by the signature) are not zero");
  return {
    bytes,
    vendor,
    date: parseDate(dateBytes),
    swDefined,
    modulus,
    exponent,
    signature,
    miscSelect,
    miscMask,
    isvFamilyId,
    attributes,
    attributeMask,
    mrEnclave,
    isvExtProdId,
    isvProdId,
    isvSvn,
    q1,
    q2,
    mrSigner: new Uint8Array(createHash("sha256").update(modulus).digest()),
    signed: new Uint8Array(Buffer.concat([bytes.subarray(0, 128), bytes.subarray(900, 1028)])),
    debug: ((attributes[0] ?? 0) & 0x02) !== 0,
  };
}

/**
 * Verifies the RSA-3072 signature (PKCS#1 v1.5, SHA-256, e = 3, over the 256 signed bytes) and the
 * Q1/Q2 values EINIT uses, which the signature does not cover.
 * @throws ERR_SIGSTRUCT_SIGNATURE_INVALID
 */
export function verifySigstruct(s: Sigstruct): void {
  const n = reverse(s.modulus);
  const sig = reverse(s.signature);
  const key = createPublicKey({ format: "jwk", key: { kty: "RSA", n: b64(n), e: b64(Uint8Array.of(3)) } });
  let ok = false;
  try {
    ok = verify("sha256", s.signed, key, sig);
  } catch {
    ok = false;
  }
  if (!ok)
    throw new KeywardError(
      "ERR_SIGSTRUCT_SIGNATURE_INVALID",
      "SIGSTRUCT: the RSA-3072 signature does not verify with its modulus",
    );
  const N = toBig(n);
  const S = toBig(sig);
  const q1 = (S * S) / N;
  const q2 = (S * S * S - q1 * S * N) / N;
  if (q1 !== toBig(reverse(s.q1)) || q2 !== toBig(reverse(s.q2))) {
    throw new KeywardError(
      "ERR_SIGSTRUCT_SIGNATURE_INVALID",
      "SIGSTRUCT: Q1/Q2 (not covered by the signature) are not floor(S²/N) and floor((S³−Q1·S·N)/N)",
    );
  }
}

// SDM: DATE is yyyymmdd in BCD (u32 LE). Gramine before PR #1287 (2023) wrote u16 year, u8 month,
// u8 day in binary; the signature covers it either way, so both are read, and labelled.
function parseDate(b: Uint8Array): Sigstruct["date"] {
  const u32 = (b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24);
  const hex = (u32 >>> 0).toString(16).padStart(8, "0");
  if (/^\d{8}$/.test(hex)) {
    const iso = `${hex.slice(0, 4)}-${hex.slice(4, 6)}-${hex.slice(6, 8)}`;
    if (validDate(iso)) return { iso, encoding: "bcd" };
  }
  const year = (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  const iso = `${String(year).padStart(4, "0")}-${String(b[2] ?? 0).padStart(2, "0")}-${String(b[3] ?? 0).padStart(2, "0")}`;
  if (validDate(iso)) return { iso, encoding: "legacy" };
  return malformed(`DATE bytes ${toHex(b)} are neither BCD yyyymmdd nor the legacy binary form`);
}

function validDate(iso: string): boolean {
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(iso) && d.getUTCFullYear() >= 2000;
}

function reverse(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b).reverse();
}

function toBig(be: Uint8Array): bigint {
  return BigInt(`0x${toHex(be) || "0"}`);
}

function b64(b: Uint8Array): string {
  return Buffer.from(b).toString("base64url");
}

function malformed(message: string): never {
  throw new KeywardError("ERR_SIGSTRUCT_MALFORMED", `SIGSTRUCT: ${message}`);
}
