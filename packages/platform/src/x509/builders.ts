/**
 * Issuing X.509 v3 certificates and v2 CRLs (RFC 5280), signed with ECDSA P-256/P-384. Used by
 * the simulated platform (its CA hierarchy) and by RA-TLS (self-signed certificates carrying
 * evidence).
 *
 * @module
 */
import { createHash, createPublicKey, type KeyObject, sign } from "node:crypto";
import { KEY_USAGE_BITS, type KeyUsage, OID_EXT, OID_SIG } from "@keyward/attest/x509";
import {
  derBitString,
  derBoolean,
  derExplicit,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  derUtf8,
} from "./der-writer.ts";

/** A distinguished name as ordered [attribute OID or short name, value] pairs. */
export type NameSpec = readonly (readonly [string, string])[];

const SHORT_NAMES: Readonly<Record<string, string>> = {
  CN: "2.5.4.3",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
};

/** A certificate extension to include. */
export interface ExtensionSpec {
  readonly oid: string;
  readonly critical?: boolean;
  /** The extnValue content (the DER of the extension's own structure). */
  readonly value: Uint8Array;
}

/** What {@link buildCertificate} needs. */
export interface CertificateSpec {
  readonly serial: Uint8Array;
  readonly subject: NameSpec;
  readonly issuer: NameSpec;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  /** The issuer's private key (the subject's own for a self-signed certificate). */
  readonly signingKey: KeyObject;
  readonly isCa?: boolean;
  readonly pathLength?: number;
  readonly keyUsage?: readonly ("digitalSignature" | "keyCertSign" | "cRLSign" | "keyAgreement")[];
  readonly extensions?: readonly ExtensionSpec[];
}

/** DER of a Name. */
export function derName(name: NameSpec): Uint8Array {
  return derSequence(
    ...name.map(([type, value]) => derSet(derSequence(derOid(SHORT_NAMES[type] ?? type), derUtf8(value)))),
  );
}

/** A signed certificate, DER. */
export function buildCertificate(spec: CertificateSpec): Uint8Array {
  const spki = new Uint8Array(spec.publicKey.export({ type: "spki", format: "der" }));
  const algorithm = signatureAlgorithmOf(spec.signingKey);
  const extensions: Uint8Array[] = [];
  if (spec.isCa !== undefined) {
    const bc = spec.isCa
      ? derSequence(derBoolean(true), ...(spec.pathLength === undefined ? [] : [derInteger(spec.pathLength)]))
      : derSequence();
    extensions.push(extension(OID_EXT.BASIC_CONSTRAINTS, true, bc));
  }
  if (spec.keyUsage !== undefined)
    extensions.push(extension(OID_EXT.KEY_USAGE, true, keyUsageBits(spec.keyUsage)));
  // Subject and authority key identifiers: SHA-1 of the key bits is the RFC 5280 §4.2.1.2 method (1);
  // SHA-256 truncated serves as well and keeps SHA-1 out of the code base.
  extensions.push(extension("2.5.29.14", false, derOctetString(keyId(spec.publicKey))));
  extensions.push(
    extension(
      OID_EXT.AUTHORITY_KEY_IDENTIFIER,
      false,
      derSequence(implicitKeyId(keyIdOfPrivate(spec.signingKey))),
    ),
  );
  for (const e of spec.extensions ?? []) extensions.push(extension(e.oid, e.critical === true, e.value));
  const tbs = derSequence(
    derExplicit(0, derInteger(2)),
    derInteger(spec.serial),
    algorithm.der,
    derName(spec.issuer),
    derSequence(derTime(spec.notBefore), derTime(spec.notAfter)),
    derName(spec.subject),
    spki,
    derExplicit(3, derSequence(...extensions)),
  );
  return signed(tbs, algorithm, spec.signingKey);
}

/** What {@link buildCrl} needs. */
export interface CrlSpec {
  readonly issuer: NameSpec;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revoked: readonly { readonly serial: Uint8Array; readonly date: Date }[];
  readonly crlNumber: number;
  readonly signingKey: KeyObject;
}

/** A signed v2 CRL, DER, with the crlNumber and authorityKeyIdentifier extensions Intel's QVL requires. */
export function buildCrl(spec: CrlSpec): Uint8Array {
  const algorithm = signatureAlgorithmOf(spec.signingKey);
  const revoked =
    spec.revoked.length === 0
      ? []
      : [derSequence(...spec.revoked.map((r) => derSequence(derInteger(r.serial), derTime(r.date))))];
  const tbs = derSequence(
    derInteger(1),
    algorithm.der,
    derName(spec.issuer),
    derTime(spec.thisUpdate),
    derTime(spec.nextUpdate),
    ...revoked,
    derExplicit(
      0,
      derSequence(
        extension(OID_EXT.CRL_NUMBER, false, derInteger(spec.crlNumber)),
        extension(
          OID_EXT.AUTHORITY_KEY_IDENTIFIER,
          false,
          derSequence(implicitKeyId(keyIdOfPrivate(spec.signingKey))),
        ),
      ),
    ),
  );
  return signed(tbs, algorithm, spec.signingKey);
}

interface SignatureAlgorithm {
  readonly der: Uint8Array;
  readonly hash: "sha256" | "sha384";
}

function signatureAlgorithmOf(key: KeyObject): SignatureAlgorithm {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || (curve !== "prime256v1" && curve !== "secp384r1")) {
    throw new TypeError("buildCertificate: the signing key must be ECDSA P-256 or P-384");
  }
  const p384 = curve === "secp384r1";
  return {
    der: derSequence(derOid(p384 ? OID_SIG.ECDSA_SHA384 : OID_SIG.ECDSA_SHA256)),
    hash: p384 ? "sha384" : "sha256",
  };
}

function signed(tbs: Uint8Array, algorithm: SignatureAlgorithm, key: KeyObject): Uint8Array {
  const signature = new Uint8Array(sign(algorithm.hash, tbs, key)); // DER-encoded ECDSA-Sig-Value
  return derSequence(tbs, algorithm.der, derBitString(signature));
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return derSequence(derOid(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value));
}

// The usages a spec may name all sit in the first byte of the bit string (bits 0–7).
function keyUsageBits(usages: readonly KeyUsage[]): Uint8Array {
  let bits = 0;
  for (const u of usages) bits |= 0x80 >> KEY_USAGE_BITS.indexOf(u);
  // DER BIT STRING: trailing zero bits are not encoded (X.690 §11.2.2).
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return Uint8Array.of(0x03, 0x02, unused, bits);
}

function keyId(publicKey: KeyObject): Uint8Array {
  return new Uint8Array(
    createHash("sha256")
      .update(publicKey.export({ type: "spki", format: "der" }))
      .digest()
      .subarray(0, 20),
  );
}

function keyIdOfPrivate(key: KeyObject): Uint8Array {
  return keyId(key.type === "private" ? createPublicKey(key) : key);
}

function implicitKeyId(id: Uint8Array): Uint8Array {
  const o = derOctetString(id);
  o[0] = 0x80; // [0] IMPLICIT KeyIdentifier
  return o;
}
