/**
 * Certification path validation (RFC 5280 §6, the parts X.509 attestation profiles use): from a
 * leaf to one of the caller's pinned anchors, never to a root found in the evidence.
 *
 * @module
 */
import { bytesEqual } from "../bytes/equal.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import type { Certificate } from "./certificate.ts";
import { type Crl, isRevoked, verifyCrl } from "./crl.ts";
import { verifySignedBytes } from "./signature.ts";
import type { SignatureCache } from "./signature-cache.ts";

/** Options of {@link verifyCertificateChain}. */
export interface ChainOptions {
  /** Pinned trust anchors. */
  readonly anchors: readonly Certificate[];
  /** The time at which every certificate and CRL must be valid. */
  readonly at: Date;
  /** CRLs to check: each applies to the certificates its issuer issued, and is itself verified. */
  readonly crls?: readonly Crl[];
  readonly cache?: SignatureCache;
}

/** A validated path. */
export interface ChainResult {
  readonly anchor: Certificate;
  /** Leaf first, anchor excluded. */
  readonly path: readonly Certificate[];
  /** The earliest notAfter / nextUpdate of everything the result rests on. */
  readonly validUntil: Date;
}

const MAX_CHAIN = 8;

/**
 * Validates `chain` (leaf first; it may end with a copy of the anchor) to one of `anchors`.
 * @throws ERR_X509_UNTRUSTED_ROOT, ERR_X509_PATH_INVALID, ERR_X509_SIGNATURE_INVALID,
 *   ERR_X509_EXPIRED, ERR_X509_REVOKED, and the CRL codes of {@link verifyCrl}
 */
export function verifyCertificateChain(chain: readonly Certificate[], options: ChainOptions): ChainResult {
  const { anchors, at, crls = [], cache } = options;
  if (chain.length === 0 || chain.length > MAX_CHAIN) {
    throw new KeywardError("ERR_X509_PATH_INVALID", `certificate chain of ${chain.length} certificates`);
  }
  const last = chain[chain.length - 1] as Certificate;
  const copyOfAnchor = anchors.find((a) => bytesEqual(a.der, last.der));
  const path = copyOfAnchor === undefined ? chain : chain.slice(0, -1);
  const top = path[path.length - 1] ?? last;
  // A self-issued certificate at the top that is not byte-identical to an anchor is a root we do
  // not trust, even when it carries the same name as one of ours.
  const selfIssued = copyOfAnchor === undefined && bytesEqual(top.subjectDer, top.issuerDer);
  const anchor =
    copyOfAnchor ??
    (path.length === 0 || selfIssued
      ? undefined
      : anchors.find((a) => bytesEqual(a.subjectDer, top.issuerDer)));
  if (anchor === undefined) {
    throw new KeywardError(
      "ERR_X509_UNTRUSTED_ROOT",
      `certificate chain ends at "${top.issuer}", which is not a trusted root`,
      { detail: { issuer: top.issuer } },
    );
  }

  let validUntil = anchor.notAfter;
  checkValidity(anchor, at);
  for (let i = 0; i < path.length; i++) {
    const child = path[i] as Certificate;
    const parent = path[i + 1] ?? anchor;
    checkValidity(child, at);
    if (child.notAfter < validUntil) validUntil = child.notAfter;
    if (!bytesEqual(child.issuerDer, parent.subjectDer)) {
      invalid(
        `"${describe(child)}" names issuer "${child.issuer}", but the next certificate is "${parent.subject}"`,
      );
    }
    if (!parent.isCa) invalid(`"${describe(parent)}" issued a certificate but is not a CA`);
    if (parent.keyUsage !== undefined && !parent.keyUsage.has("keyCertSign")) {
      invalid(`"${describe(parent)}" issued a certificate without keyCertSign`);
    }
    // RFC 5280 §4.2.1.9: pathLenConstraint counts the non-self-issued intermediates below the CA.
    const below = i;
    if (parent.pathLength !== undefined && below > parent.pathLength) {
      invalid(
        `"${describe(parent)}" allows ${parent.pathLength} intermediates below it, the path has ${below}`,
      );
    }
    const check = () =>
      verifySignedBytes(
        child.signatureAlgorithm,
        parent.publicKey,
        child.tbs,
        child.signature,
        parent.publicKeyKind,
      );
    const ok = cache === undefined ? check() : cache.check(parent, child.tbs, child.signature, check);
    if (!ok) {
      throw new KeywardError(
        "ERR_X509_SIGNATURE_INVALID",
        `"${describe(child)}": signature does not verify`,
        {
          detail: { subject: child.subject, serial: child.serialNumber },
        },
      );
    }
  }

  const issuers = [...path, anchor];
  for (const crl of crls) {
    const issuer = issuers.find((c) => bytesEqual(c.subjectDer, crl.issuerDer));
    if (issuer === undefined) {
      throw new KeywardError(
        "ERR_CRL_ISSUER_MISMATCH",
        `CRL of "${crl.issuer}" belongs to no CA of this chain`,
      );
    }
    verifyCrl(crl, issuer, at, cache);
    if (crl.nextUpdate < validUntil) validUntil = crl.nextUpdate;
    for (const cert of path) {
      if (bytesEqual(cert.issuerDer, crl.issuerDer) && isRevoked(crl, cert)) {
        throw new KeywardError("ERR_X509_REVOKED", `"${describe(cert)}" is revoked by its issuer's CRL`, {
          detail: { subject: cert.subject, serial: cert.serialNumber },
        });
      }
    }
  }
  return { anchor, path, validUntil };
}

function checkValidity(cert: Certificate, at: Date): void {
  if (at < cert.notBefore || at > cert.notAfter) {
    const when = at < cert.notBefore ? "not yet valid" : "expired";
    throw new KeywardError(
      "ERR_X509_EXPIRED",
      `"${describe(cert)}" is ${when} at ${at.toISOString()} (valid ${cert.notBefore.toISOString()}..${cert.notAfter.toISOString()})`,
      { detail: { subject: cert.subject, serial: cert.serialNumber, when } },
    );
  }
}

function describe(cert: Certificate): string {
  return `${cert.subject} #${cert.serialNumber}`;
}

function invalid(message: string): never {
  throw new KeywardError("ERR_X509_PATH_INVALID", message);
}
