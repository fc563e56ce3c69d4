/**
 * What a quote's signature data establishes with its collateral, before its header and body are
 * trusted: the PCK chain to a pinned anchor with both CRLs, TCB Info and QE Identity signed under
 * that same anchor and meant for this TEE and platform, the QE report signed by the PCK key and
 * binding the attestation key, and the QE being the one QE Identity describes (Intel QVL
 * PckCertVerifier, TCBInfoVerifier, EnclaveIdentityVerifier, QuoteVerifier.cpp 4.1.2.4.4–15).
 *
 * None of it depends on the quote's body or its signature, so a verifier keeps the result with
 * the exact bytes it rests on (`DcapQuote.signatureData.attested`, the TEE type and the
 * collateral) for as long as everything it rests on is valid. A quote from the same QE then costs
 * one ECDSA verification: its own signature.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { bytesEqual, isAllZero } from "../../bytes/equal.ts";
import { toHex } from "../../bytes/hex.ts";
import { sha256 } from "../../crypto/digest.ts";
import { p256FromRaw, verifyP256 } from "../../crypto/p256.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import type { Certificate } from "../../x509/certificate.ts";
import { verifyCertificateChain } from "../../x509/chain.ts";
import { type PckExtensions, parsePckExtensions } from "../../x509/pck-extensions.ts";
import type { SignatureCache } from "../../x509/signature-cache.ts";
import type { SignedCollateral } from "./collateral.ts";
import { type PreparedCollateral, type Verified, validFrom, windowed } from "./prepared-collateral.ts";
import type { QeTcbLevel } from "./qe-identity.ts";
import { type DcapQuote, TEE_SGX } from "./quote.ts";
import { gradeQe } from "./tcb-status.ts";
import type { TrustAnchor } from "./trust-anchor.ts";

/** The verified facts of a quote's signature data under one collateral. */
export interface Attested {
  /** A copy of the bytes the facts rest on (`signatureData.attested`). */
  readonly bytes: Uint8Array;
  readonly tdx: boolean;
  /** Window (ms since the epoch) in which every certificate, CRL and collateral document is valid. */
  readonly validFrom: number;
  readonly validUntil: number;
  readonly anchor: TrustAnchor;
  readonly leaf: Certificate;
  readonly pck: PckExtensions;
  readonly attestationKey: KeyObject;
  /** The QE's level in QE Identity (it may be Revoked: the verdict ends there). */
  readonly qeLevel: QeTcbLevel;
}

/** What the checks need from the verifier. */
export interface AttestContext {
  readonly anchors: readonly TrustAnchor[];
  /** PEM chain → parsed certificates, the same array for the same text. */
  readonly chainOf: (pem: string) => readonly Certificate[];
  readonly signatures: SignatureCache;
}

/**
 * Verifies everything `quote`'s signature data establishes with `c` at `at`.
 * @throws KeywardError at the first failed check (docs/dcap.md, "Intel's QVL, check by check")
 */
export function verifyAttested(
  quote: DcapQuote,
  c: PreparedCollateral,
  at: Date,
  ctx: AttestContext,
): Attested {
  const { signatures } = ctx;
  const sig = quote.signatureData;
  const tdx = quote.header.teeType !== TEE_SGX;
  const t = at.getTime();

  // B. PCK chain: leaf, Platform/Processor CA, root; to a pinned anchor; CRLs of both CAs.
  const pckChain = ctx.chainOf(sig.pckChainPem);
  if (pckChain.length !== 3) {
    throw new KeywardError(
      "ERR_DCAP_PCK_CHAIN_INVALID",
      `PCK chain has ${pckChain.length} certificates, not 3`,
    );
  }
  const leaf = pckChain[0] as Certificate;
  // QVL PckCertVerifier and 4.1.2.4.4: the leaf is a PCK certificate, the next one a CA. (The
  // root's name is not read: the chain must end at a pinned anchor, byte for byte.)
  commonNameContains(leaf, "SGX PCK Certificate", "ERR_DCAP_PCK_CHAIN_INVALID", "PCK leaf");
  commonNameContains(pckChain[1] as Certificate, "CA", "ERR_DCAP_PCK_CHAIN_INVALID", "PCK intermediate");
  // QVL 4.1.2.4.6: the PCK CRL must be the one of the PCK leaf's issuer.
  if (!bytesEqual(c.pckCrl.issuerDer, leaf.issuerDer)) {
    throw new KeywardError(
      "ERR_CRL_ISSUER_MISMATCH",
      `PCK CRL is of "${c.pckCrl.issuer}", the PCK leaf's issuer is "${leaf.issuer}"`,
    );
  }
  const pckPath = windowed(c, pckChain, t, () => {
    const r = verifyCertificateChain(pckChain, {
      anchors: ctx.anchors.map((a) => a.certificate),
      at,
      crls: [c.rootCrl, c.pckCrl],
      cache: signatures,
    });
    return {
      anchor: r.anchor,
      validFrom: validFrom([...pckChain, r.anchor], [c.rootCrl, c.pckCrl]),
      validUntil: r.validUntil.getTime(),
    };
  });
  const anchor = ctx.anchors.find((a) => a.certificate === pckPath.anchor) as TrustAnchor;
  const pck = parsePckExtensions(leaf);

  // C, D. TCB Info and QE Identity: signed by the TCB Signing certificate under the same anchor.
  const tcb = signedCollateral("TCB Info", c, c.source.tcbInfo, c.tcbChain, c.tcbInfo, anchor, at, ctx);
  const qeId = signedCollateral(
    "QE Identity",
    c,
    c.source.qeIdentity,
    c.qeChain,
    c.qeIdentity,
    anchor,
    at,
    ctx,
  );
  // E.4 (4.1.2.4.9), E.14 (4.1.2.4.14): the collateral is for this TEE.
  if (c.tcbInfo.id !== (tdx ? "TDX" : "SGX")) {
    mismatch(`TCB Info id ${c.tcbInfo.id} for a${tdx ? " TDX" : "n SGX"} quote`);
  }
  if (c.qeIdentity.id !== (tdx ? "TD_QE" : "QE"))
    mismatch(`QE Identity id ${c.qeIdentity.id} for this quote`);
  if (tdx && c.qeIdentity.version !== 2) mismatch(`TD_QE identity version ${c.qeIdentity.version}`);
  // E.5 (4.1.2.4.10): the collateral is this platform's.
  if (!bytesEqual(pck.fmspc, c.tcbInfo.fmspc)) {
    mismatch(`TCB Info is for FMSPC ${toHex(c.tcbInfo.fmspc)}, the PCK certificate says ${toHex(pck.fmspc)}`);
  }
  if (!bytesEqual(pck.pceId, c.tcbInfo.pceId)) {
    mismatch(
      `TCB Info is for PCE-ID ${toHex(c.tcbInfo.pceId)}, the PCK certificate says ${toHex(pck.pceId)}`,
    );
  }

  // E.7, E.8 (4.1.2.4.12–13): the QE report is signed by the PCK key and binds the attestation key.
  const qe = sig.qeReport;
  const qeOk = signatures.check(leaf, sig.qeReportBytes, sig.qeReportSignature, () =>
    verifyP256(leaf.publicKey, sig.qeReportBytes, sig.qeReportSignature),
  );
  if (!qeOk) {
    throw new KeywardError(
      "ERR_DCAP_QE_REPORT_SIGNATURE_INVALID",
      "QE report: signature by the PCK key does not verify",
    );
  }
  const binding = sha256(sig.attestationKey, sig.qeAuthData);
  if (!bytesEqual(qe.reportData.subarray(0, 32), binding) || !isAllZero(qe.reportData.subarray(32))) {
    throw new KeywardError(
      "ERR_DCAP_QE_REPORT_DATA_MISMATCH",
      "QE report data is not SHA-256(attestation key ‖ QE auth data) ‖ zeros",
    );
  }

  // E.9 (4.1.2.4.15): the QE is the one QE Identity describes; its TCB level.
  const id = c.qeIdentity;
  const attributesMasked = qe.attributes.map((b, i) => b & (id.attributesMask[i] ?? 0));
  const problems = [
    (qe.miscSelect & id.miscSelectMask) >>> 0 !== id.miscSelect ? "MISCSELECT" : "",
    !bytesEqual(attributesMasked, id.attributes) ? "ATTRIBUTES" : "",
    !bytesEqual(qe.mrSigner, id.mrSigner) ? "MRSIGNER" : "",
    qe.isvProdId !== id.isvProdId ? "ISVPRODID" : "",
  ].filter((p) => p !== "");
  if (problems.length > 0) {
    throw new KeywardError(
      "ERR_DCAP_QE_IDENTITY_MISMATCH",
      `QE report differs from QE Identity in ${problems.join(", ")}`,
      { detail: { fields: problems } },
    );
  }
  const qeLevel = gradeQe(id, qe.isvSvn);

  return {
    bytes: sig.attested.slice(),
    tdx,
    validFrom: Math.max(pckPath.validFrom, tcb.validFrom, qeId.validFrom),
    validUntil: Math.min(pckPath.validUntil, tcb.validUntil, qeId.validUntil),
    anchor,
    leaf,
    pck,
    attestationKey: p256FromRaw(sig.attestationKey),
    qeLevel,
  };
}

// TCB Info or QE Identity: its issuer chain (checked once per parsed chain and window), then the
// signature over the exact bytes received, then its own dates.
function signedCollateral(
  what: string,
  c: PreparedCollateral,
  signed: SignedCollateral,
  chain: readonly Certificate[],
  parsed: { readonly issueDate: Date; readonly nextUpdate: Date },
  anchor: TrustAnchor,
  at: Date,
  ctx: AttestContext,
): Verified {
  // QVL TCBSigningChain / EXPECTED_CERTIFICATE_COUNT_IN_TCB_CHAIN: TCB Signing certificate, root.
  if (chain.length !== 2) {
    throw new KeywardError(
      "ERR_DCAP_TCB_SIGNING_CHAIN_INVALID",
      `${what}: issuer chain has ${chain.length} certificates, not 2`,
    );
  }
  const signer = chain[0] as Certificate;
  commonNameContains(signer, "SGX TCB Signing", "ERR_DCAP_TCB_SIGNING_CHAIN_INVALID", what);
  const path = windowed(c, chain, at.getTime(), () => {
    const r = verifyCertificateChain(chain, {
      anchors: [anchor.certificate],
      at,
      crls: [c.rootCrl],
      cache: ctx.signatures,
    });
    return {
      anchor: r.anchor,
      validFrom: validFrom([...chain, r.anchor], [c.rootCrl]),
      validUntil: r.validUntil.getTime(),
    };
  });
  // Another anchor verified this chain before (a verifier may trust several): not this quote's.
  if (path.anchor !== anchor.certificate) {
    throw new KeywardError("ERR_X509_UNTRUSTED_ROOT", `${what}: issuer chain ends at another trust anchor`);
  }
  const ok = ctx.signatures.check(signer, signed.body, signed.signature, () =>
    verifyP256(signer.publicKey, signed.body, signed.signature),
  );
  if (!ok)
    throw new KeywardError("ERR_DCAP_COLLATERAL_SIGNATURE_INVALID", `${what}: signature does not verify`);
  if (at < parsed.issueDate || at > parsed.nextUpdate) {
    throw new KeywardError(
      "ERR_DCAP_COLLATERAL_EXPIRED",
      `${what} is valid ${parsed.issueDate.toISOString()}..${parsed.nextUpdate.toISOString()}, not at ${at.toISOString()}`,
      { detail: { issueDate: parsed.issueDate.toISOString(), nextUpdate: parsed.nextUpdate.toISOString() } },
    );
  }
  return {
    anchor: path.anchor,
    validFrom: Math.max(path.validFrom, parsed.issueDate.getTime()),
    validUntil: Math.min(path.validUntil, parsed.nextUpdate.getTime()),
  };
}

// QVL BaseVerifier::commonNameContains.
function commonNameContains(
  cert: Certificate,
  phrase: string,
  code: "ERR_DCAP_PCK_CHAIN_INVALID" | "ERR_DCAP_TCB_SIGNING_CHAIN_INVALID",
  what: string,
): void {
  if (!cert.subjectCommonNames.some((cn) => cn.includes(phrase))) {
    throw new KeywardError(code, `${what}: subject CN does not contain "${phrase}"`, {
      detail: { subject: cert.subject },
    });
  }
}

function mismatch(message: string): never {
  throw new KeywardError("ERR_DCAP_COLLATERAL_MISMATCH", message);
}
