/**
 * Certificate revocation lists (RFC 5280 §5), read with the strict DER reader (Node has no CRL
 * API) and checked as Intel's QVL does: signature by the issuer, issuer name, both time bounds.
 *
 * @module
 */

import { bytesEqual } from "../bytes/equal.ts";
import { toHex } from "../bytes/hex.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { type Certificate, readAlgorithm } from "./certificate.ts";
import { DerReader, TAG } from "./der.ts";
import { checkName, nameToString } from "./name.ts";
import { OID_EXT } from "./oids.ts";
import { verifySignedBytes } from "./signature.ts";
import type { SignatureCache } from "./signature-cache.ts";

/** A parsed CRL. Every field is checked at parse time; display text and hex sets are made on use. */
export interface Crl {
  readonly der: Uint8Array;
  /** The exact TBSCertList bytes: the signed region. */
  readonly tbs: Uint8Array;
  /** Display form of the issuer Name. */
  readonly issuer: string;
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Serial numbers of revoked certificates: magnitudes, big-endian (as `Certificate.serial`). */
  readonly revoked: readonly Uint8Array[];
  /** The same serials as lowercase hex (as `Certificate.serialNumber`). */
  readonly revokedSerials: ReadonlySet<string>;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly extensionOids: readonly string[];
}

const MAX_CRL = 4 * 1024 * 1024;
const MAX_REVOKED = 200_000;

/**
 * Parses a DER CRL.
 * @throws ERR_CRL_MALFORMED, ERR_DER_MALFORMED, ERR_BYTES_TRUNCATED
 */
export function parseCrl(der: Uint8Array): Crl {
  if (der.byteLength > MAX_CRL) malformed(`${der.byteLength} bytes exceeds ${MAX_CRL}`);
  try {
    const outer = new DerReader(der, "CRL");
    const list = outer.enter(TAG.SEQUENCE, "CertificateList");
    outer.end();
    const tbsElement = list.element(TAG.SEQUENCE, "tbsCertList");
    const signatureAlgorithm = readAlgorithm(list, "signatureAlgorithm");
    const signature = list.bitStringBytes("signatureValue");
    list.end();

    const tbs = new DerReader(tbsElement.content, "CRL TBSCertList", 1);
    if (tbs.peekTag() === TAG.INTEGER && tbs.smallInteger("version") !== 1) malformed("not a v2 CRL");
    if (readAlgorithm(tbs, "signature") !== signatureAlgorithm) malformed("signature algorithms differ");
    const issuer = tbs.element(TAG.SEQUENCE, "issuer");
    const thisUpdate = tbs.time("thisUpdate");
    const next = tbs.peekTag();
    if (next !== TAG.UTC_TIME && next !== TAG.GENERALIZED_TIME) malformed("no nextUpdate"); // RFC 5280 §5.1.2.5: MUST
    const nextUpdate = tbs.time("nextUpdate");
    const revoked: Uint8Array[] = [];
    if (tbs.peekTag() === TAG.SEQUENCE) {
      const entries = tbs.enter(TAG.SEQUENCE, "revokedCertificates");
      while (!entries.done) {
        if (revoked.length >= MAX_REVOKED) malformed(`more than ${MAX_REVOKED} entries`);
        const end = entries.open(TAG.SEQUENCE, "revokedCertificate");
        revoked.push(entries.unsignedInteger("userCertificate"));
        // The revocation date is not used: revoked is revoked. Only its form is checked.
        const when = entries.peekTag();
        if (when !== TAG.UTC_TIME && when !== TAG.GENERALIZED_TIME) malformed("revocationDate is not a time");
        entries.skip(when, "revocationDate");
        if (!entries.at(end)) entries.skip(TAG.SEQUENCE, "crlEntryExtensions");
        entries.close(end, "revokedCertificate");
      }
    }
    const extensionOids: string[] = [];
    const ext = tbs.optional(0xa0);
    if (ext !== undefined) {
      const seq = new DerReader(ext.content, "CRL extensions", 2).enter(TAG.SEQUENCE, "Extensions");
      while (!seq.done) {
        const e = seq.enter(TAG.SEQUENCE, "Extension");
        extensionOids.push(e.oid("extnID"));
        if (e.peekTag() === TAG.BOOLEAN) e.boolean("critical");
        e.octetString("extnValue");
        e.end();
      }
    }
    tbs.end();
    // RFC 5280 §5.2.1, §5.2.3: conforming issuers MUST include both; Intel's QVL refuses a CRL
    // without them (X509Constants.cpp CRL_REQUIRED_EXTENSIONS: STATUS_SGX_CRL_INVALID_EXTENSIONS).
    for (const [oid, name] of [
      [OID_EXT.CRL_NUMBER, "cRLNumber"],
      [OID_EXT.AUTHORITY_KEY_IDENTIFIER, "authorityKeyIdentifier"],
    ] as const) {
      if (!extensionOids.includes(oid)) malformed(`no ${name} extension`);
    }
    checkName(issuer.content);
    let issuerText: string | undefined;
    let hexSerials: ReadonlySet<string> | undefined;
    return {
      der,
      tbs: tbsElement.encoded,
      get issuer() {
        issuerText ??= nameToString(issuer.content);
        return issuerText;
      },
      issuerDer: issuer.encoded,
      thisUpdate,
      nextUpdate,
      revoked,
      get revokedSerials() {
        hexSerials ??= new Set(revoked.map(toHex));
        return hexSerials;
      },
      signatureAlgorithm,
      signature,
      extensionOids,
    };
  } catch (e) {
    if (e instanceof KeywardError && e.code === "ERR_DER_MALFORMED") {
      throw new KeywardError("ERR_CRL_MALFORMED", e.message, { cause: e });
    }
    throw e;
  }
}

/**
 * Checks that `crl` was issued and signed by `issuer` and is current at `at`
 * (thisUpdate ≤ at ≤ nextUpdate; Intel QVL: STATUS_SGX_CRL_EXPIRED otherwise).
 * @throws ERR_CRL_ISSUER_MISMATCH, ERR_CRL_SIGNATURE_INVALID, ERR_CRL_EXPIRED
 */
export function verifyCrl(crl: Crl, issuer: Certificate, at: Date, cache?: SignatureCache): void {
  if (!bytesEqual(crl.issuerDer, issuer.subjectDer)) {
    throw new KeywardError(
      "ERR_CRL_ISSUER_MISMATCH",
      `CRL issued by "${crl.issuer}", expected "${issuer.subject}"`,
    );
  }
  const check = () =>
    verifySignedBytes(crl.signatureAlgorithm, issuer.publicKey, crl.tbs, crl.signature, issuer.publicKeyKind);
  const ok = cache === undefined ? check() : cache.check(issuer, crl.tbs, crl.signature, check);
  if (!ok)
    throw new KeywardError("ERR_CRL_SIGNATURE_INVALID", `CRL of "${crl.issuer}": signature does not verify`);
  if (at < crl.thisUpdate || at > crl.nextUpdate) {
    throw new KeywardError(
      "ERR_CRL_EXPIRED",
      `CRL of "${crl.issuer}" is valid ${crl.thisUpdate.toISOString()}..${crl.nextUpdate.toISOString()}, not at ${at.toISOString()}`,
      { detail: { thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString() } },
    );
  }
}

/** True when `cert` is on `crl` (the caller has checked that `crl` is its issuer's). */
export function isRevoked(crl: Crl, cert: Certificate): boolean {
  return crl.revoked.some((serial) => bytesEqual(serial, cert.serial));
}

function malformed(message: string): never {
  throw new KeywardError("ERR_CRL_MALFORMED", `CRL: ${message}`);
}
