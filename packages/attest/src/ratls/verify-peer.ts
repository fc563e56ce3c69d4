/**
 * Verifying an RA-TLS peer certificate: the evidence is found, its binding to the certificate's
 * key checked exactly, the quote verified (DCAP, Intel QVL semantics) and its claims appraised.
 * The TLS handshake itself proves the peer holds the certificate's private key.
 *
 * @module
 */
import { type Appraisal, appraise } from "../appraisal/appraise.ts";
import type { Policy } from "../appraisal/policy.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import type { DcapCollateral } from "../evidence/dcap/collateral.ts";
import type { DcapVerdict, DcapVerifier } from "../evidence/dcap/verify.ts";
import { type Certificate, parseCertificate } from "../x509/certificate.ts";
import { checkRaTlsBinding, extractRaTlsEvidence, type RaTlsFormat } from "./evidence.ts";

/** What an RA-TLS certificate is verified against. */
export interface RaTlsVerifyOptions {
  /** A DCAP verifier with the trust anchors to use (and its warm caches). */
  readonly verifier: DcapVerifier;
  /** Collateral for the certificate's quote, or a function that finds it. */
  readonly collateral: DcapCollateral | ((quote: Uint8Array) => DcapCollateral);
  readonly at: Date;
  /** When given, the claims must satisfy it. */
  readonly policy?: Policy;
  /** When given, the evidence must carry exactly this nonce. */
  readonly nonce?: Uint8Array;
}

/** A verified peer. */
export interface RaTlsVerdict {
  readonly format: RaTlsFormat;
  readonly certificate: Certificate;
  readonly verified: DcapVerdict;
  readonly appraisal?: Appraisal;
  /** When this verdict stops holding: the certificate's or the collateral's expiry, whichever is first. */
  readonly validUntil: Date;
}

/**
 * Verifies an RA-TLS certificate (DER or parsed).
 * @throws ERR_RATLS_*, and the codes of the DCAP verifier
 */
export function verifyRaTlsCertificate(
  certificate: Uint8Array | Certificate,
  options: RaTlsVerifyOptions,
): RaTlsVerdict {
  const cert = certificate instanceof Uint8Array ? parseCertificate(certificate) : certificate;
  if (options.at < cert.notBefore || options.at > cert.notAfter) {
    throw new KeywardError(
      "ERR_RATLS_CERT_EXPIRED",
      `RA-TLS certificate valid ${cert.notBefore.toISOString()}..${cert.notAfter.toISOString()}, not at ${options.at.toISOString()}`,
    );
  }
  const evidence = extractRaTlsEvidence(cert);
  checkRaTlsBinding(cert, evidence, options.nonce === undefined ? {} : { nonce: options.nonce });
  const collateral =
    typeof options.collateral === "function" ? options.collateral(evidence.quote) : options.collateral;
  const verified = options.verifier.verify(evidence.quote, collateral, options.at);
  let appraisal: Appraisal | undefined;
  if (options.policy !== undefined) {
    appraisal = appraise(verified, options.policy);
    if (!appraisal.accepted) {
      throw new KeywardError(
        "ERR_RATLS_POLICY_REJECTED",
        `RA-TLS peer rejected by policy ${appraisal.policyId}: ${appraisal.failed.map((f) => f.rule).join(", ")}`,
        { detail: { appraisal } },
      );
    }
  }
  const validUntil = new Date(Math.min(cert.notAfter.getTime(), verified.validUntil.getTime()));
  return {
    format: evidence.format,
    certificate: cert,
    verified,
    ...(appraisal === undefined ? {} : { appraisal }),
    validUntil,
  };
}
