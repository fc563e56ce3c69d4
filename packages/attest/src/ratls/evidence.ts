/**
 * Finding the evidence in an RA-TLS certificate and checking that it binds the certificate's key.
 * Formats, in the order they are tried: the interoperable TCG extension; Gramine's legacy
 * extension; the Intel SGX SDK's; Open Enclave's report and evidence extensions.
 *
 * @module
 */

import { ByteReader } from "../bytes/byte-reader.ts";
import { bytesEqual, concatBytes, isAllZero } from "../bytes/equal.ts";
import { type CborValue, decodeCbor, isCborTag } from "../cbor/cbor.ts";
import { digest, sha256 } from "../crypto/digest.ts";
import { secretEqual } from "../crypto/secret-equal.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { dcapQuoteLength, parseDcapQuote } from "../evidence/dcap/quote.ts";
import type { Certificate } from "../x509/certificate.ts";
import {
  CBOR_TAG_INTEL_QUOTE,
  OID_GRAMINE_LEGACY,
  OID_GRAMINE_LEGACY_AS_ENCODED,
  OID_INTEL_SGX_SDK,
  OID_OE_EVIDENCE,
  OID_OE_REPORT,
  OID_TCG_DICE_TAGGED_EVIDENCE,
} from "./oids.ts";

/** Every format an RA-TLS certificate's evidence can come in, in the order they are tried. */
export const RA_TLS_FORMATS = [
  "tcg-dice",
  "gramine-legacy",
  "intel-sgx-sdk",
  "open-enclave-report",
  "open-enclave-evidence",
] as const;

/** Which extension carried the evidence. */
export type RaTlsFormat = (typeof RA_TLS_FORMATS)[number];

/** Evidence found in a certificate, before it is verified. */
export interface RaTlsEvidence {
  readonly format: RaTlsFormat;
  readonly oid: string;
  readonly quote: Uint8Array;
  /** TCG format: the claims bytes (what report data binds) and what they say. */
  readonly claims?: {
    readonly bytes: Uint8Array;
    readonly pubkeyHash: { readonly algorithm: 1 | 7 | 8; readonly value: Uint8Array };
    readonly nonce?: Uint8Array;
    readonly other: readonly string[];
  };
  /** Open Enclave evidence: the custom claims buffer after the quote. */
  readonly customClaims?: Uint8Array;
}

const HASHES = { 1: "sha256", 7: "sha384", 8: "sha512" } as const;

/**
 * Finds the evidence of an RA-TLS certificate.
 * @throws ERR_RATLS_NO_EVIDENCE, ERR_RATLS_MALFORMED
 */
export function extractRaTlsEvidence(cert: Certificate): RaTlsEvidence {
  const ext = (oid: string) => cert.extensions.find((e) => e.oid === oid);
  const tcg = ext(OID_TCG_DICE_TAGGED_EVIDENCE);
  if (tcg !== undefined) return fromTcg(tcg.value);
  const legacy = ext(OID_GRAMINE_LEGACY_AS_ENCODED) ?? ext(OID_GRAMINE_LEGACY);
  if (legacy !== undefined) return { format: "gramine-legacy", oid: legacy.oid, quote: legacy.value };
  const sdk = ext(OID_INTEL_SGX_SDK);
  if (sdk !== undefined && cert.subjectDer.byteLength > 0 && bytesEqual(cert.subjectDer, cert.issuerDer)) {
    return { format: "intel-sgx-sdk", oid: sdk.oid, quote: sdk.value };
  }
  const oeReport = ext(OID_OE_REPORT);
  if (oeReport !== undefined) {
    // oe_report_header_t: u32 version, u32 report_type (2 = remote), u64 report_size, then the quote.
    const r = new ByteReader(oeReport.value, "Open Enclave report");
    r.u32le();
    if (r.u32le() !== 2) malformed("Open Enclave report is not a remote report");
    const size = Number(r.u64le());
    const quote = r.bytes(r.length(size, 64 * 1024, "report_size"));
    r.end();
    return { format: "open-enclave-report", oid: OID_OE_REPORT, quote };
  }
  const oeEvidence = ext(OID_OE_EVIDENCE);
  if (oeEvidence !== undefined) {
    // oe_attestation_header_t: u32 version, 16-byte format UUID, u64 data_size; then quote ‖ custom claims.
    const r = new ByteReader(oeEvidence.value, "Open Enclave evidence");
    r.u32le();
    r.bytes(16);
    const data = r.bytes(r.length(Number(r.u64le()), 64 * 1024, "data_size"));
    r.end();
    const n = dcapQuoteLength(data);
    return {
      format: "open-enclave-evidence",
      oid: OID_OE_EVIDENCE,
      quote: data.subarray(0, n),
      customClaims: data.subarray(n),
    };
  }
  throw new KeywardError("ERR_RATLS_NO_EVIDENCE", "certificate carries no RA-TLS evidence extension");
}

function fromTcg(value: Uint8Array): RaTlsEvidence {
  let item: CborValue;
  try {
    item = decodeCbor(value);
  } catch (cause) {
    throw new KeywardError("ERR_RATLS_MALFORMED", "TCG evidence: not CBOR", { cause });
  }
  if (
    !isCborTag(item) ||
    item.tag !== CBOR_TAG_INTEL_QUOTE ||
    !Array.isArray(item.value) ||
    item.value.length !== 2
  ) {
    malformed("TCG evidence is not 60000([quote, claims])");
  }
  const [quote, claims] = item.value as readonly CborValue[];
  if (!(quote instanceof Uint8Array) || !(claims instanceof Uint8Array))
    malformed("TCG evidence: quote and claims must be byte strings");
  let map: CborValue;
  try {
    map = decodeCbor(claims);
  } catch (cause) {
    throw new KeywardError("ERR_RATLS_MALFORMED", "TCG claims: not CBOR", { cause });
  }
  if (!(map instanceof Map)) malformed("TCG claims are not a map");
  let hashItem = map.get("pubkey-hash");
  if (hashItem instanceof Uint8Array) {
    try {
      hashItem = decodeCbor(hashItem); // the spec wraps the array in a byte string
    } catch (cause) {
      throw new KeywardError("ERR_RATLS_MALFORMED", "TCG claims: pubkey-hash is not CBOR", { cause });
    }
  }
  if (!Array.isArray(hashItem) || hashItem.length !== 2)
    malformed("TCG claims: pubkey-hash must be [hash-alg, hash]");
  const [alg, hash] = hashItem as readonly CborValue[];
  if ((alg !== 1 && alg !== 7 && alg !== 8) || !(hash instanceof Uint8Array))
    malformed("TCG claims: pubkey-hash algorithm must be 1, 7 or 8");
  const nonce = map.get("nonce");
  if (nonce !== undefined && !(nonce instanceof Uint8Array))
    malformed("TCG claims: nonce must be a byte string");
  const other = [...map.keys()].filter((k) => k !== "pubkey-hash" && k !== "nonce").map(String);
  return {
    format: "tcg-dice",
    oid: OID_TCG_DICE_TAGGED_EVIDENCE,
    quote,
    claims: {
      bytes: claims,
      pubkeyHash: { algorithm: alg, value: hash },
      ...(nonce === undefined ? {} : { nonce }),
      other,
    },
  };
}

/**
 * How one format binds the certificate's key: throws unless `reportData` (64 bytes) and the
 * evidence name exactly this certificate's key.
 */
export type RaTlsKeyBinding = (cert: Certificate, evidence: RaTlsEvidence, reportData: Uint8Array) => void;

// Keyed by the format union: a format added to RA_TLS_FORMATS without its binding does not compile,
// so no format can reach verification with its key check skipped.
const KEY_BINDINGS: { readonly [F in RaTlsFormat]: RaTlsKeyBinding } = {
  "tcg-dice": (cert, evidence, reportData) => {
    const c = evidence.claims;
    if (c === undefined) mismatch("no claims");
    expectFirstHalf(reportData, sha256(c.bytes), "SHA-256(claims)");
    const keyHash = digest(HASHES[c.pubkeyHash.algorithm], cert.spki);
    if (!bytesEqual(keyHash, c.pubkeyHash.value))
      mismatch("the claims' pubkey-hash is not the hash of this certificate's key");
  },
  "gramine-legacy": (cert, _evidence, reportData) =>
    expectFirstHalf(reportData, sha256(cert.spki), "SHA-256(SubjectPublicKeyInfo)"),
  "intel-sgx-sdk": (cert, _evidence, reportData) =>
    expectFirstHalf(reportData, sha256(cert.spki), "SHA-256(SubjectPublicKeyInfo)"),
  "open-enclave-report": (cert, _evidence, reportData) =>
    expectFirstHalf(reportData, sha256(publicKeyPemWithNul(cert)), "SHA-256(public key PEM ‖ NUL)"),
  "open-enclave-evidence": (cert, evidence, reportData) => {
    const pem = publicKeyPemWithNul(cert);
    if (!bytesEqual(evidence.customClaims ?? new Uint8Array(), pem))
      mismatch("the custom claims are not this certificate's public key");
    expectFirstHalf(reportData, sha256(pem), "SHA-256(custom claims)");
  },
};

function expectFirstHalf(reportData: Uint8Array, h: Uint8Array, what: string): void {
  if (!bytesEqual(reportData.subarray(0, 32), h) || !isAllZero(reportData.subarray(32)))
    mismatch(`report data is not ${what} followed by zeros`);
}

/**
 * Checks that the evidence binds the certificate's public key exactly: the report data is the
 * format's hash followed by zeros, and (TCG) the claims name the key's hash. Evidence whose
 * format has no binding (a value from outside the type system) is refused, never passed.
 * @throws ERR_RATLS_BINDING_MISMATCH, ERR_RATLS_NONCE_MISMATCH
 */
export function checkRaTlsBinding(
  cert: Certificate,
  evidence: RaTlsEvidence,
  options: { readonly nonce?: Uint8Array } = {},
): void {
  const reportData = parseDcapQuote(evidence.quote).body.report.reportData;
  if (!Object.hasOwn(KEY_BINDINGS, evidence.format))
    mismatch(`no key binding is known for the format ${JSON.stringify(evidence.format)}`);
  KEY_BINDINGS[evidence.format](cert, evidence, reportData);
  if (options.nonce !== undefined) {
    const got = evidence.claims?.nonce;
    if (got === undefined || !secretEqual(got, options.nonce)) {
      throw new KeywardError(
        "ERR_RATLS_NONCE_MISMATCH",
        "RA-TLS: the evidence does not carry the expected nonce",
      );
    }
  }
}

// Open Enclave hashes the key as mbedTLS writes it in PEM, with the C string's terminating NUL.
function publicKeyPemWithNul(cert: Certificate): Uint8Array {
  const b64 = Buffer.from(cert.spki)
    .toString("base64")
    .replace(/.{1,64}/g, "$&\n");
  return concatBytes(
    new TextEncoder().encode(`-----BEGIN PUBLIC KEY-----\n${b64}-----END PUBLIC KEY-----\n`),
    Uint8Array.of(0),
  );
}

function malformed(message: string): never {
  throw new KeywardError("ERR_RATLS_MALFORMED", `RA-TLS: ${message}`);
}

function mismatch(message: string): never {
  throw new KeywardError("ERR_RATLS_BINDING_MISMATCH", `RA-TLS: ${message}`);
}
