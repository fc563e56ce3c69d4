/**
 * DCAP quote verification with Intel QVL semantics (QuoteVerification.cpp, QuoteVerifier.cpp,
 * TcbLevelCheck.cpp; see docs/dcap.md): PCK chain and CRLs, TCB Info and QE Identity, the QE
 * report, the quote signature, the TDX module and the TCB status. Pure: time, anchors and
 * collateral come in.
 *
 * @module
 */
import { bytesEqual, concatBytes, isAllZero } from "../../bytes/equal.ts";
import { verifyP256 } from "../../crypto/p256.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import type { Certificate } from "../../x509/certificate.ts";
import { parseCertificate } from "../../x509/certificate.ts";
import type { PckExtensions } from "../../x509/pck-extensions.ts";
import { pemBlocks } from "../../x509/pem.ts";
import { createSignatureCache } from "../../x509/signature-cache.ts";
import type { TcbStatus, VerifiedQuote } from "../claims.ts";
import { type AttestContext, type Attested, verifyAttested } from "./attested.ts";
import { sgxClaimsOf, tdxClaimsOf } from "./claims.ts";
import type { DcapCollateral } from "./collateral.ts";
import { type PreparedCollateral, prepareCollateral } from "./prepared-collateral.ts";
import type { QeTcbStatus } from "./qe-identity.ts";
import { type DcapQuote, parseDcapQuote } from "./quote.ts";
import type { TdReportBody } from "./report-body.ts";
import type { TcbInfo, TdxModule } from "./tcb-info.ts";
import { convergeQe, expectedTdxModule, gradePlatform, qeTcbStatusOf } from "./tcb-status.ts";
import { intelTrustAnchor, type TrustAnchor } from "./trust-anchor.ts";

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
  /** Bound of each cache (parsed chains, signature results, attested QEs per collateral). */
  readonly cacheSize?: number;
}

// The status part of a verdict, for one attested QE and one TEE_TCB_SVN (TDX) or none (SGX).
interface Conclusion {
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly details: Omit<DcapVerdict["details"], "padding">;
}

// What is known for one TEE_TCB_SVN ‖ TEE_TCB_SVN2 (empty for SGX) of an attested QE.
interface BodyFacts {
  readonly svn: Uint8Array;
  /** The TDX module TCB Info names for this TEE_TCB_SVN (TDX only). */
  readonly module: TdxModule | undefined;
  conclusion: Conclusion | undefined;
}

interface Prepared {
  readonly collateral: PreparedCollateral;
  /** Attested QEs by (part of) their QE report signature; each holds the exact bytes it rests on. */
  readonly attested: Map<number, Attested>;
  /** Per attested QE: what is known by TEE_TCB_SVN ‖ TEE_TCB_SVN2, a few values at most. */
  readonly conclusions: WeakMap<Attested, BodyFacts[]>;
}

/**
 * A verifier whose caches make repeated verifications cheap: collateral is parsed once per
 * object, certificate chains once per text, and what a QE's signature data establishes (PCK
 * chain, collateral signatures, QE report, QE identity) is kept with the exact bytes it rests on
 * while all of it is valid. A quote from a known QE then costs its own signature check.
 */
export function createDcapVerifier(options: DcapVerifierOptions = {}): DcapVerifier {
  const anchors = options.anchors ?? [intelTrustAnchor()];
  const size = options.cacheSize ?? 1024;
  const chains = boundedMap<string, readonly Certificate[]>(size);
  const collaterals = new WeakMap<DcapCollateral, Prepared>();

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
  const context: AttestContext = { anchors, chainOf, signatures: createSignatureCache(size * 8) };

  const prepare = (c: DcapCollateral): Prepared => {
    let p = collaterals.get(c);
    if (p === undefined) {
      p = {
        collateral: prepareCollateral(c, chainOf),
        attested: boundedMap(size),
        conclusions: new WeakMap(),
      };
      collaterals.set(c, p);
    }
    return p;
  };

  return {
    verify(bytes, collateral, at) {
      const quote = parseDcapQuote(bytes);
      const p = prepare(collateral);
      const sig = quote.signatureData;
      const key = keyOf(sig.qeReportSignature);
      const t = at.getTime();
      let attested = p.attested.get(key);
      if (
        attested === undefined ||
        attested.tdx !== (quote.body.kind !== "sgx") ||
        t < attested.validFrom ||
        t > attested.validUntil ||
        !bytesEqual(attested.bytes, sig.attested)
      ) {
        attested = verifyAttested(quote, p.collateral, at, context);
        p.attested.set(key, attested);
      }
      return conclude(quote, p, attested);
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

// What the header and body add to an attested QE: the quote signature, the TDX module, the TCB
// status, the verdict.
function conclude(quote: DcapQuote, p: Prepared, a: Attested): DcapVerdict {
  const sig = quote.signatureData;
  const info = p.collateral.tcbInfo;
  // E.10 (4.1.2.4.16): the quote signature by the attestation key over header ‖ body. Checked
  // before anything that reads the body, so a changed body byte always fails here.
  if (!verifyP256(a.attestationKey, quote.signed, sig.signature)) {
    throw new KeywardError(
      "ERR_DCAP_QUOTE_SIGNATURE_INVALID",
      "quote signature does not verify with the attestation key",
    );
  }

  // The rest depends on the attested QE and, for TDX, on TEE_TCB_SVN (and TEE_TCB_SVN2): what it
  // computes is kept per value.
  const body = quote.body;
  const svn =
    body.kind === "sgx"
      ? none
      : body.report.teeTcbSvn2 === undefined
        ? body.report.teeTcbSvn
        : concatBytes(body.report.teeTcbSvn, body.report.teeTcbSvn2);
  let known = p.conclusions.get(a);
  if (known === undefined) {
    known = [];
    p.conclusions.set(a, known);
  }
  let entry = known.find((k) => bytesEqual(k.svn, svn));
  if (entry === undefined) {
    entry = {
      svn: svn.slice(),
      module: body.kind === "sgx" ? undefined : expectedTdxModule(info, body.report.teeTcbSvn),
      conclusion: undefined,
    };
    if (known.length < 16) known.push(entry);
  }

  // E.6 (4.1.2.4.11): the TDX module is the one TCB Info names.
  if (body.kind !== "sgx" && entry.module !== undefined) checkTdxModule(body.report, entry.module);

  // E.11 (4.1.2.4.17): TCB status of the platform, converged with the QE's. A Revoked platform,
  // TDX module or QE level ends verification here, each with its own code (and is not kept).
  entry.conclusion ??= conclusionOf(quote, info, a);
  const c = entry.conclusion;
  return {
    tee: body.kind === "sgx" ? "sgx" : "tdx",
    quoteVersion: quote.header.version,
    platform: a.anchor.platform,
    tcbStatus: c.tcbStatus,
    advisoryIds: c.advisoryIds,
    fmspc: a.pck.fmspc,
    claims: body.kind === "sgx" ? sgxClaimsOf(body.report) : tdxClaimsOf(body.report),
    validUntil: new Date(a.validUntil),
    details: { ...c.details, padding: quote.padding },
  };
}

function checkTdxModule(report: TdReportBody, expected: TdxModule): void {
  if (!bytesEqual(report.mrSignerSeam, expected.mrSigner)) {
    throw new KeywardError(
      "ERR_DCAP_TDX_MODULE_MISMATCH",
      "MRSIGNERSEAM is not the TDX module signer TCB Info names",
    );
  }
  // QVL 4.1.2.4.11.2: SEAMATTRIBUTES must be zero, and equal TCB Info's under its mask.
  const seam = report.seamAttributes;
  let equal = seam.byteLength === expected.attributes.byteLength;
  for (let i = 0; equal && i < seam.byteLength; i++) {
    equal = ((seam[i] ?? 0) & (expected.attributesMask[i] ?? 0)) === expected.attributes[i];
  }
  if (!isAllZero(seam) || !equal) {
    throw new KeywardError("ERR_DCAP_TDX_MODULE_MISMATCH", "SEAMATTRIBUTES differ from TCB Info's");
  }
}

// @throws ERR_DCAP_TCB_NOT_SUPPORTED, ERR_DCAP_TCB_REVOKED, ERR_DCAP_TDX_MODULE_REVOKED,
//   ERR_DCAP_QE_TCB_REVOKED, ERR_DCAP_TDX_MODULE_MISMATCH
function conclusionOf(quote: DcapQuote, info: TcbInfo, a: Attested): Conclusion {
  const body = quote.body;
  const grade = gradePlatform(
    info,
    {
      sgxComponents: a.pck.tcb.sgxTcbComponents,
      pceSvn: a.pck.tcb.pceSvn,
      ...(body.kind === "sgx" ? {} : { teeTcbSvn: body.report.teeTcbSvn }),
      ...(body.kind === "td15" && body.report.teeTcbSvn2 !== undefined
        ? { teeTcbSvn2: body.report.teeTcbSvn2 }
        : {}),
    },
    a.qeLevel,
  );
  const qeTcbStatus = qeTcbStatusOf(a.qeLevel);
  return {
    tcbStatus: convergeQe(grade.platformStatus, qeTcbStatus),
    advisoryIds: Object.freeze([...new Set([...grade.advisoryIds, ...a.qeLevel.advisoryIds])].sort()),
    details: {
      platformTcbStatus: grade.platformStatus,
      qeTcbStatus,
      tcbDate: (grade.tdxLevel ?? grade.sgxLevel).tcbDate,
      tcbEvaluationDataNumber: info.tcbEvaluationDataNumber,
      ...(grade.module === undefined
        ? {}
        : {
            tdxModule: {
              id: grade.module.id,
              isvSvn: grade.module.isvSvn,
              status: grade.module.level.tcbStatus,
            },
          }),
      pck: { ...a.pck, issuer: a.leaf.issuer, serial: a.leaf.serialNumber },
    },
  };
}

const none = new Uint8Array(0);

// A map key from six bytes of a QE report signature: r is uniformly random, so distinct QEs
// differ here; a collision only costs a full check, since a hit must match the bytes exactly.
function keyOf(signature: Uint8Array): number {
  let k = 0;
  for (let i = 0; i < 6; i++) k = k * 256 + (signature[i] ?? 0);
  return k;
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
