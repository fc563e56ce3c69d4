/**
 * DCAP quote verification with Intel QVL semantics (QuoteVerification.cpp, QuoteVerifier.cpp,
 * TcbLevelCheck.cpp; see docs/dcap.md): PCK chain and CRLs, TCB Info and QE Identity, the QE
 * report, the quote signature, and the TCB status. Pure: time, anchors and collateral come in.
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
import { nameAttributes, parseCertificate, parsePemCertificates } from "../../x509/certificate.ts";
import { verifyCertificateChain } from "../../x509/chain.ts";
import { type Crl, parseCrl } from "../../x509/crl.ts";
import { OID_COMMON_NAME } from "../../x509/oids.ts";
import { type PckExtensions, parsePckExtensions } from "../../x509/pck-extensions.ts";
import { pemBlocks } from "../../x509/pem.ts";
import { createSignatureCache, type SignatureCache } from "../../x509/signature-cache.ts";
import type { Platform, TcbStatus, VerifiedQuote } from "../claims.ts";
import { sgxClaimsOf, tdxClaimsOf } from "./claims.ts";
import type { DcapCollateral, SignedCollateral } from "./collateral.ts";
import { INTEL_SGX_ROOT_CA_PEM, INTEL_SGX_ROOT_CA_SHA256 } from "./intel-root.ts";
import { parseQeIdentity, type QeIdentity, type QeTcbStatus } from "./qe-identity.ts";
import { type DcapQuote, parseDcapQuote, TEE_SGX } from "./quote.ts";
import { parseTcbInfo, type TcbInfo } from "./tcb-info.ts";
import { convergeQe, expectedTdxModule, gradePlatform, gradeQe, qeTcbStatusOf } from "./tcb-status.ts";

/** A pinned root and what it vouches for. */
export interface TrustAnchor {
  readonly certificate: Certificate;
  /** `hardware` for Intel's root; `simulated` for Keyward's simulation root. */
  readonly platform: Platform;
}

/** The verdict: the normalized claims plus how the TCB status was reached. */
export interface DcapVerdict extends VerifiedQuote {
  readonly details: {
    /** The platform's status (with the TDX module's) before the QE's is converged into it. */
    readonly platformTcbStatus: TcbStatus;
    /** The QE Identity level's status for the QE's ISVSVN (never Revoked: that fails verification). */
    readonly qeTcbStatus: Exclude<QeTcbStatus, "Revoked">;
    readonly tcbDate: string;
    readonly tcbEvaluationDataNumber: number;
    readonly tdxModule?: {
      readonly id: string;
      readonly isvSvn: number;
      readonly status: "UpToDate" | "OutOfDate";
    };
    readonly pck: PckExtensions & { readonly issuer: string; readonly serial: string };
    /** Zero bytes after the quote's signature data. */
    readonly padding: number;
  };
}

/** A verifier with warm caches. */
export interface DcapVerifier {
  /**
   * Verifies `quote` against `collateral` at time `at`.
   * @throws KeywardError at the first failed check (see docs/errors.md)
   */
  verify(quote: Uint8Array, collateral: DcapCollateral, at: Date): DcapVerdict;
}

/** Options of {@link createDcapVerifier}. */
export interface DcapVerifierOptions {
  /** Trust anchors; default: Intel's SGX Root CA only. */
  readonly anchors?: readonly TrustAnchor[];
  /** Bound of each cache (parsed chains, prepared collateral, signature results). */
  readonly cacheSize?: number;
}

interface PreparedCollateral {
  readonly tcbInfo: TcbInfo;
  readonly tcbChain: readonly Certificate[];
  readonly qeIdentity: QeIdentity;
  readonly qeChain: readonly Certificate[];
  readonly rootCrl: Crl;
  readonly pckCrl: Crl;
  readonly source: DcapCollateral;
}

let intelAnchor: TrustAnchor | undefined;

/** The pinned Intel SGX Root CA as a hardware trust anchor (its fingerprint checked once). */
export function intelTrustAnchor(): TrustAnchor {
  if (intelAnchor === undefined) {
    const [certificate] = parsePemCertificates(INTEL_SGX_ROOT_CA_PEM, 1);
    if (certificate === undefined || toHex(certificate.fingerprint256) !== INTEL_SGX_ROOT_CA_SHA256) {
      throw new KeywardError(
        "ERR_INTERNAL",
        "the embedded Intel SGX Root CA does not match its pinned fingerprint",
      );
    }
    intelAnchor = { certificate, platform: "hardware" };
  }
  return intelAnchor;
}

/** A verifier whose caches make repeated verifications cheap. */
export function createDcapVerifier(options: DcapVerifierOptions = {}): DcapVerifier {
  const anchors = options.anchors ?? [intelTrustAnchor()];
  const size = options.cacheSize ?? 1024;
  const signatures = createSignatureCache(size * 8);
  const chains = boundedMap<string, readonly Certificate[]>(size);
  const collaterals = new WeakMap<DcapCollateral, PreparedCollateral>();
  const attestationKeys = boundedMap<string, KeyObject>(size);
  const pckExtensions = new WeakMap<Certificate, PckExtensions>();
  const windows = new WeakMap<PreparedCollateral, Map<string, Verified>>();

  // Chains repeat the root: reuse the anchor's parsed certificate when the bytes are the same.
  const chainOf = (pem: string): readonly Certificate[] => {
    let chain = chains.get(pem);
    if (chain === undefined) {
      chain = pemBlocks(pem, "CERTIFICATE", 4).map(
        (der) =>
          anchors.find((a) => bytesEqual(a.certificate.der, der))?.certificate ?? parseCertificate(der),
      );
      chains.set(pem, chain);
    }
    return chain;
  };

  const prepare = (c: DcapCollateral): PreparedCollateral => {
    let p = collaterals.get(c);
    if (p === undefined) {
      p = {
        tcbInfo: parseTcbInfo(c.tcbInfo.body),
        tcbChain: chainOf(c.tcbInfo.issuerChainPem),
        qeIdentity: parseQeIdentity(c.qeIdentity.body),
        qeChain: chainOf(c.qeIdentity.issuerChainPem),
        rootCrl: parseCrl(c.rootCaCrl),
        pckCrl: parseCrl(c.pckCrl),
        source: c,
      };
      collaterals.set(c, p);
    }
    return p;
  };

  return {
    verify(bytes, collateral, at) {
      const quote = parseDcapQuote(bytes);
      const c = prepare(collateral);
      return verifyParsed(quote, c, at, anchors, {
        signatures,
        chainOf,
        attestationKeys,
        pckExtensions,
        windows,
      });
    },
  };
}

/**
 * Verifies one quote (no caches kept between calls).
 * @throws KeywardError at the first failed check
 */
export function verifyDcapQuote(
  quote: Uint8Array,
  collateral: DcapCollateral,
  options: { readonly at: Date; readonly anchors?: readonly TrustAnchor[] },
): DcapVerdict {
  return createDcapVerifier(options.anchors === undefined ? {} : { anchors: options.anchors }).verify(
    quote,
    collateral,
    options.at,
  );
}

function verifyParsed(
  quote: DcapQuote,
  c: PreparedCollateral,
  at: Date,
  anchors: readonly TrustAnchor[],
  caches: Caches,
): DcapVerdict {
  const { signatures, chainOf, attestationKeys } = caches;
  const sig = quote.signatureData;
  const tdx = quote.header.teeType !== TEE_SGX;

  // B. PCK chain: leaf, Platform/Processor CA, root; to a pinned anchor; CRLs of both CAs.
  const pckChain = chainOf(sig.pckChainPem);
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
  const pckPath = windowed(caches, c, `pck:${sig.pckChainPem}`, at, () => {
    const r = verifyCertificateChain(pckChain, {
      anchors: anchors.map((a) => a.certificate),
      at,
      crls: [c.rootCrl, c.pckCrl],
      cache: signatures,
    });
    return {
      anchor: r.anchor,
      validFrom: validFrom([...pckChain, r.anchor], [c.rootCrl, c.pckCrl]),
      validUntil: r.validUntil,
    };
  });
  const anchor = anchors.find((a) => a.certificate === pckPath.anchor) as TrustAnchor;
  let pck = caches.pckExtensions.get(leaf);
  if (pck === undefined) {
    pck = parsePckExtensions(leaf);
    caches.pckExtensions.set(leaf, pck);
  }

  // C, D. TCB Info and QE Identity: signed by the TCB Signing certificate under the same anchor.
  const tcbUntil = windowed(caches, c, "tcb", at, () =>
    verifySignedCollateral(
      "TCB Info",
      c.source.tcbInfo,
      c.tcbChain,
      c.tcbInfo,
      anchor,
      c.rootCrl,
      at,
      signatures,
    ),
  ).validUntil;
  const qeUntil = windowed(caches, c, "qe", at, () =>
    verifySignedCollateral(
      "QE Identity",
      c.source.qeIdentity,
      c.qeChain,
      c.qeIdentity,
      anchor,
      c.rootCrl,
      at,
      signatures,
    ),
  ).validUntil;
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
  const qeOk = signatures.check(leaf.fingerprint256, sig.qeReportBytes, sig.qeReportSignature, () =>
    verifyP256(leaf.publicKey, sig.qeReportBytes, sig.qeReportSignature),
  );
  if (!qeOk)
    throw new KeywardError(
      "ERR_DCAP_QE_REPORT_SIGNATURE_INVALID",
      "QE report: signature by the PCK key does not verify",
    );
  const binding = sha256(sig.attestationKey, sig.qeAuthData);
  if (!bytesEqual(qe.reportData.subarray(0, 32), binding) || !isAllZero(qe.reportData.subarray(32))) {
    throw new KeywardError(
      "ERR_DCAP_QE_REPORT_DATA_MISMATCH",
      "QE report data is not SHA-256(attestation key ‖ QE auth data) ‖ zeros",
    );
  }

  // E.10 (4.1.2.4.16): the quote signature by the attestation key over header ‖ body. Checked
  // before anything that reads the body, so a changed body byte always fails here.
  const keyHex = toHex(sig.attestationKey);
  let attestationKey = attestationKeys.get(keyHex);
  if (attestationKey === undefined) {
    attestationKey = p256FromRaw(sig.attestationKey);
    attestationKeys.set(keyHex, attestationKey);
  }
  if (!verifyP256(attestationKey, quote.signed, sig.signature)) {
    throw new KeywardError(
      "ERR_DCAP_QUOTE_SIGNATURE_INVALID",
      "quote signature does not verify with the attestation key",
    );
  }

  // E.6 (4.1.2.4.11): the TDX module is the one TCB Info names.
  if (quote.body.kind !== "sgx") {
    const report = quote.body.report;
    const expected = expectedTdxModule(c.tcbInfo, report.teeTcbSvn);
    const masked = report.seamAttributes.map((b, i) => b & (expected.attributesMask[i] ?? 0));
    if (!bytesEqual(report.mrSignerSeam, expected.mrSigner)) {
      throw new KeywardError(
        "ERR_DCAP_TDX_MODULE_MISMATCH",
        "MRSIGNERSEAM is not the TDX module signer TCB Info names",
      );
    }
    if (!isAllZero(report.seamAttributes) || !bytesEqual(masked, expected.attributes)) {
      throw new KeywardError("ERR_DCAP_TDX_MODULE_MISMATCH", "SEAMATTRIBUTES differ from TCB Info's");
    }
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
      {
        detail: { fields: problems },
      },
    );
  }
  const qeLevel = gradeQe(id, qe.isvSvn);

  // E.11 (4.1.2.4.17): TCB status of the platform, converged with the QE's. A Revoked platform,
  // TDX module or QE level ends verification here, each with its own code.
  const body = quote.body;
  const grade = gradePlatform(
    c.tcbInfo,
    {
      sgxComponents: pck.tcb.sgxTcbComponents,
      pceSvn: pck.tcb.pceSvn,
      ...(body.kind === "sgx" ? {} : { teeTcbSvn: body.report.teeTcbSvn }),
      ...(body.kind === "td15" && body.report.teeTcbSvn2 !== undefined
        ? { teeTcbSvn2: body.report.teeTcbSvn2 }
        : {}),
    },
    qeLevel,
  );
  const qeTcbStatus = qeTcbStatusOf(qeLevel);
  const tcbStatus = convergeQe(grade.platformStatus, qeTcbStatus);
  const advisoryIds = [...new Set([...grade.advisoryIds, ...qeLevel.advisoryIds])].sort();
  const claims = quote.body.kind === "sgx" ? sgxClaimsOf(quote.body.report) : tdxClaimsOf(quote.body.report);
  const validUntil = new Date(Math.min(pckPath.validUntil.getTime(), tcbUntil.getTime(), qeUntil.getTime()));
  return {
    tee: tdx ? "tdx" : "sgx",
    quoteVersion: quote.header.version,
    platform: anchor.platform,
    tcbStatus,
    advisoryIds,
    fmspc: pck.fmspc,
    claims,
    validUntil,
    details: {
      platformTcbStatus: grade.platformStatus,
      qeTcbStatus,
      tcbDate: (grade.tdxLevel ?? grade.sgxLevel).tcbDate,
      tcbEvaluationDataNumber: c.tcbInfo.tcbEvaluationDataNumber,
      ...(grade.module === undefined
        ? {}
        : {
            tdxModule: {
              id: grade.module.id,
              isvSvn: grade.module.isvSvn,
              status: grade.module.level.tcbStatus,
            },
          }),
      pck: { ...pck, issuer: leaf.issuer, serial: leaf.serialNumber },
      padding: quote.padding,
    },
  };
}

function verifySignedCollateral(
  what: string,
  signed: SignedCollateral,
  chain: readonly Certificate[],
  parsed: { readonly issueDate: Date; readonly nextUpdate: Date },
  anchor: TrustAnchor,
  rootCrl: Crl,
  at: Date,
  signatures: SignatureCache,
): Verified {
  // QVL TCBSigningChain / EXPECTED_CERTIFICATE_COUNT_IN_TCB_CHAIN: TCB Signing certificate, root.
  if (chain.length !== 2) {
    throw new KeywardError(
      "ERR_DCAP_TCB_SIGNING_CHAIN_INVALID",
      `${what}: issuer chain has ${chain.length} certificates, not 2`,
    );
  }
  commonNameContains(chain[0] as Certificate, "SGX TCB Signing", "ERR_DCAP_TCB_SIGNING_CHAIN_INVALID", what);
  const path = verifyCertificateChain(chain, {
    anchors: [anchor.certificate],
    at,
    crls: [rootCrl],
    cache: signatures,
  });
  const signer = path.path[0];
  if (signer === undefined)
    throw new KeywardError("ERR_X509_PATH_INVALID", `${what}: issuer chain has no signing certificate`);
  const ok = signatures.check(signer.fingerprint256, signed.body, signed.signature, () =>
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
    validFrom: new Date(
      Math.max(validFrom([...chain, path.anchor], [rootCrl]).getTime(), parsed.issueDate.getTime()),
    ),
    validUntil: new Date(Math.min(path.validUntil.getTime(), parsed.nextUpdate.getTime())),
  };
}

/** A check that passed, and the time window in which it passes again with the same inputs. */
interface Verified {
  readonly anchor: Certificate;
  readonly validFrom: Date;
  readonly validUntil: Date;
}

interface Caches {
  readonly signatures: SignatureCache;
  readonly chainOf: (pem: string) => readonly Certificate[];
  readonly attestationKeys: Map<string, KeyObject>;
  readonly pckExtensions: WeakMap<Certificate, PckExtensions>;
  readonly windows: WeakMap<PreparedCollateral, Map<string, Verified>>;
}

// Chains, CRLs and signed collateral that verified once verify again, with the same bytes, at any
// time inside their validity window: signatures and revocation do not depend on the time. Outside
// the window the full check runs again and reports exactly what failed.
function windowed(
  caches: Caches,
  c: PreparedCollateral,
  key: string,
  at: Date,
  verify: () => Verified,
): Verified {
  let m = caches.windows.get(c);
  if (m === undefined) {
    m = new Map();
    caches.windows.set(c, m);
  }
  const hit = m.get(key);
  if (hit !== undefined && at >= hit.validFrom && at <= hit.validUntil) return hit;
  const fresh = verify();
  if (m.size > 1024) m.clear();
  m.set(key, fresh);
  return fresh;
}

function validFrom(certs: readonly Certificate[], crls: readonly Crl[]): Date {
  let t = 0;
  for (const cert of certs) t = Math.max(t, cert.notBefore.getTime());
  for (const crl of crls) t = Math.max(t, crl.thisUpdate.getTime());
  return new Date(t);
}

// QVL BaseVerifier::commonNameContains.
function commonNameContains(
  cert: Certificate,
  phrase: string,
  code: "ERR_DCAP_PCK_CHAIN_INVALID" | "ERR_DCAP_TCB_SIGNING_CHAIN_INVALID",
  what: string,
): void {
  if (!nameAttributes(cert.subjectDer, OID_COMMON_NAME).some((cn) => cn.includes(phrase))) {
    throw new KeywardError(code, `${what}: subject CN does not contain "${phrase}"`, {
      detail: { subject: cert.subject },
    });
  }
}

function mismatch(message: string): never {
  throw new KeywardError("ERR_DCAP_COLLATERAL_MISMATCH", message);
}

function boundedMap<K, V>(max: number): Map<K, V> {
  const m = new Map<K, V>();
  const set = m.set.bind(m);
  m.set = (k: K, v: V) => {
    if (m.size >= max && !m.has(k)) {
      const oldest = m.keys().next();
      if (oldest.done !== true) m.delete(oldest.value);
    }
    return set(k, v);
  };
  return m;
}
