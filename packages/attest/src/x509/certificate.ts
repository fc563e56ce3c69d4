/**
 * X.509 v3 certificates (RFC 5280 §4.1), parsed strictly from their exact DER. The signed region
 * (`tbs`), names and extensions are the bytes received, never re-encoded.
 *
 * @module
 */
import { createHash, type KeyObject } from "node:crypto";
import { toHex } from "../bytes/hex.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { DerReader, TAG } from "./der.ts";
import { basicConstraints, type Extension, type KeyUsage, keyUsage } from "./extensions.ts";
import { COMMON_NAME, checkName, contentOf, nameToString, utf8 } from "./name.ts";
import { pemBlocks, toPem } from "./pem.ts";
import { importSubjectKey, readSubjectKeyInfo, type SubjectKeyInfo } from "./public-key.ts";

/**
 * A parsed certificate. Byte fields are views into `der`. Every field is checked when the
 * certificate is parsed; what only a reader or a signature check needs (display names, the
 * fingerprint, the key object) is computed on first use and kept.
 */
export interface Certificate {
  readonly der: Uint8Array;
  /** The exact TBSCertificate bytes: the signed region. */
  readonly tbs: Uint8Array;
  /** SHA-256 of `der`. */
  readonly fingerprint256: Uint8Array;
  /** The serial's magnitude, big-endian (no leading sign byte). */
  readonly serial: Uint8Array;
  /** Lowercase hex of the serial's magnitude (no leading sign byte). */
  readonly serialNumber: string;
  /** Display form of the subject Name ("CN=…, O=…"). */
  readonly subject: string;
  /** Display form of the issuer Name. */
  readonly issuer: string;
  /** The subject's commonName values (X.520, OID 2.5.4.3), in order. */
  readonly subjectCommonNames: readonly string[];
  /** The subject Name's DER, for exact matching. */
  readonly subjectDer: Uint8Array;
  /** The issuer Name's DER, for exact matching. */
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /**
   * The subject key as a KeyObject, made on first use.
   * @throws ERR_KEY_INVALID when the key is not valid (e.g. a point not on its curve)
   */
  readonly publicKey: KeyObject;
  /** "ec:prime256v1", "ec:secp384r1", "ed25519" as the SPKI names it; undefined for other keys. */
  readonly publicKeyKind: string | undefined;
  /** Signature algorithm OID (dotted). */
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly isCa: boolean;
  readonly pathLength: number | undefined;
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
  readonly extensions: readonly Extension[];
}

const MAX_CERTIFICATE = 64 * 1024;
const MAX_EXTENSIONS = 64;

/**
 * Parses a DER certificate.
 * @throws ERR_X509_MALFORMED, ERR_DER_MALFORMED, ERR_BYTES_TRUNCATED, ERR_KEY_INVALID
 */
export function parseCertificate(der: Uint8Array): Certificate {
  if (der.byteLength > MAX_CERTIFICATE) malformed(`${der.byteLength} bytes exceeds ${MAX_CERTIFICATE}`);
  const outer = new DerReader(der, "X.509 certificate");
  const cert = outer.enter(TAG.SEQUENCE, "Certificate");
  outer.end();
  const tbsElement = cert.element(TAG.SEQUENCE, "tbsCertificate");
  const signatureAlgorithm = readAlgorithm(cert, "signatureAlgorithm");
  const signature = cert.bitStringBytes("signatureValue");
  cert.end();

  const tbs = new DerReader(tbsElement.content, "X.509 TBSCertificate", 1);
  const version = tbs.optional(0xa0);
  if (version === undefined) malformed("not a v3 certificate");
  const v = new DerReader(version.content, "X.509 version", 2);
  if (v.smallInteger("version") !== 2) malformed("not a v3 certificate");
  v.end();
  const serial = tbs.unsignedInteger("serialNumber");
  const innerAlgorithm = readAlgorithm(tbs, "signature");
  if (innerAlgorithm !== signatureAlgorithm)
    malformed("signature algorithms inside and outside the TBS differ");
  const issuer = tbs.element(TAG.SEQUENCE, "issuer");
  const validity = tbs.enter(TAG.SEQUENCE, "validity");
  const notBefore = validity.time("notBefore");
  const notAfter = validity.time("notAfter");
  validity.end();
  const subject = tbs.element(TAG.SEQUENCE, "subject");
  const spki = tbs.element(TAG.SEQUENCE, "subjectPublicKeyInfo");
  tbs.optional(0x81); // issuerUniqueID
  tbs.optional(0x82); // subjectUniqueID
  const extensions: Extension[] = [];
  const extWrapper = tbs.optional(0xa3);
  if (extWrapper !== undefined) {
    const list = new DerReader(extWrapper.content, "X.509 extensions", 2).enter(TAG.SEQUENCE, "Extensions");
    while (!list.done) {
      if (extensions.length >= MAX_EXTENSIONS) malformed(`more than ${MAX_EXTENSIONS} extensions`);
      const ext = list.open(TAG.SEQUENCE, "Extension");
      const oid = list.oid("extnID");
      const critical = list.peekTag() === TAG.BOOLEAN ? list.boolean("critical") : false;
      const value = list.octetString("extnValue");
      list.close(ext, "Extension");
      if (extensions.some((e) => e.oid === oid)) malformed(`extension ${oid} appears twice`); // RFC 5280 §4.2
      extensions.push({ oid, critical, value });
    }
  }
  tbs.end();
  checkName(issuer.content);
  const commonNames = checkName(subject.content, COMMON_NAME);
  const { isCa, pathLength } = basicConstraints(extensions);
  return new ParsedCertificate({
    commonNames,
    der,
    tbs: tbsElement.encoded,
    serial,
    subjectDer: subject.encoded,
    issuerDer: issuer.encoded,
    notBefore,
    notAfter,
    spki: spki.encoded,
    keyInfo: readSubjectKeyInfo(spki.encoded),
    signatureAlgorithm,
    signature,
    isCa,
    pathLength,
    keyUsage: keyUsage(extensions),
    extensions,
  });
}

interface CertificateFields {
  readonly commonNames: readonly Uint8Array[];
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly serial: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Uint8Array;
  readonly keyInfo: SubjectKeyInfo;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly isCa: boolean;
  readonly pathLength: number | undefined;
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
  readonly extensions: readonly Extension[];
}

// A verification needs a certificate's key once and its names only in messages; a cold DCAP
// verification parses four certificates, so those are made on first use (issue 11).
class ParsedCertificate implements Certificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly serial: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Uint8Array;
  readonly publicKeyKind: string | undefined;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly isCa: boolean;
  readonly pathLength: number | undefined;
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
  readonly extensions: readonly Extension[];
  readonly #keyInfo: SubjectKeyInfo;
  readonly #commonNames: readonly Uint8Array[];
  #publicKey: KeyObject | undefined;
  #fingerprint: Uint8Array | undefined;
  #subject: string | undefined;
  #issuer: string | undefined;
  #serialNumber: string | undefined;

  constructor(f: CertificateFields) {
    this.der = f.der;
    this.tbs = f.tbs;
    this.serial = f.serial;
    this.subjectDer = f.subjectDer;
    this.issuerDer = f.issuerDer;
    this.notBefore = f.notBefore;
    this.notAfter = f.notAfter;
    this.spki = f.spki;
    this.publicKeyKind = f.keyInfo.kind;
    this.signatureAlgorithm = f.signatureAlgorithm;
    this.signature = f.signature;
    this.isCa = f.isCa;
    this.pathLength = f.pathLength;
    this.keyUsage = f.keyUsage;
    this.extensions = f.extensions;
    this.#keyInfo = f.keyInfo;
    this.#commonNames = f.commonNames;
  }

  get subjectCommonNames(): readonly string[] {
    return this.#commonNames.map((v) => utf8.decode(v));
  }

  get publicKey(): KeyObject {
    this.#publicKey ??= importSubjectKey(this.spki, this.#keyInfo);
    return this.#publicKey;
  }

  get fingerprint256(): Uint8Array {
    this.#fingerprint ??= new Uint8Array(createHash("sha256").update(this.der).digest());
    return this.#fingerprint;
  }

  get serialNumber(): string {
    this.#serialNumber ??= toHex(this.serial);
    return this.#serialNumber;
  }

  get subject(): string {
    this.#subject ??= nameToString(contentOf(this.subjectDer));
    return this.#subject;
  }

  get issuer(): string {
    this.#issuer ??= nameToString(contentOf(this.issuerDer));
    return this.#issuer;
  }
}

/**
 * Parses every CERTIFICATE block of a PEM text (at most `max`, default 10), in order.
 * @throws ERR_ENCODING_INVALID and the codes of {@link parseCertificate}
 */
export function parsePemCertificates(pem: string, max = 10): Certificate[] {
  return pemBlocks(pem, "CERTIFICATE", max).map(parseCertificate);
}

/** PEM text of a certificate. */
export function certificateToPem(cert: Certificate): string {
  return toPem(cert.der, "CERTIFICATE");
}

/** The value of extension `oid`, or undefined. */
export function findExtension(cert: Certificate, oid: string): Extension | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}

/** Reads an AlgorithmIdentifier and returns its OID (parameters must be absent or NULL). */
export function readAlgorithm(r: DerReader, field: string): string {
  const a = r.enter(TAG.SEQUENCE, field);
  const oid = a.oid(`${field}.algorithm`);
  if (!a.done) {
    const p = a.element(TAG.NULL, `${field}.parameters`);
    if (p.content.byteLength !== 0) malformed(`${field}: NULL parameters with content`);
  }
  a.end();
  return oid;
}

function malformed(message: string): never {
  throw new KeywardError("ERR_X509_MALFORMED", `X.509: ${message}`);
}
