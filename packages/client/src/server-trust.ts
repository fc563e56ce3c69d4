/**
 * Verifying the Keyward service before anything is sent to it: its RA-TLS certificate's quote
 * verified (Intel's root with collateral from a PCS/PCCS, or a simulation root given explicitly),
 * the quote bound to the certificate's key, and the claims appraised against the policy the app
 * expects of the service (its MRENCLAVE or MRSIGNER, TCB levels).
 *
 * @module
 */
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { extractRaTlsEvidence, verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parseCertificate, parsePemCertificates } from "@keyward/attest/x509";
import { collateralProviderFor, collateralRequestFor, INTEL_PCS_URL } from "@keyward/channels/collateral";
import type { VerifyCertificate } from "@keyward/channels/tls";

/** What the app trusts the service to be. */
export interface ServerTrustOptions {
  /** The policy the service's evidence must meet (the policy-file format, e.g. `{ id, mrEnclave }`). */
  readonly policy: Readonly<Record<string, unknown>>;
  /**
   * Development only: trust this simulation root (PEM) and its collateral (JSON) instead of
   * Intel's root; the policy must then allow `platforms: ["simulated"]`.
   */
  readonly simulation?: { readonly rootPem: string; readonly collateralJson: string };
  /** PCS or PCCS base URL for collateral (hardware). Default: Intel's PCS. */
  readonly pccsUrl?: string;
  readonly fetch?: typeof fetch;
}

/**
 * A verifier of the service's RA-TLS certificate.
 * @throws ERR_POLICY_INVALID (the policy), ERR_X509_* (the simulation root) at once; the returned
 *   function throws the verification and appraisal codes (`ERR_RATLS_*`, `ERR_DCAP_*`, …)
 * @example serverTrust({ policy: { id: "keyward", mrEnclave: ["9f…"] } })
 */
export function serverTrust(options: ServerTrustOptions): VerifyCertificate {
  const policy = policyFromObject(options.policy, "the service's expected identity");
  const sim = options.simulation;
  if (sim !== undefined) {
    const root = parsePemCertificates(sim.rootPem)[0];
    if (root === undefined)
      throw new KeywardError("ERR_X509_MALFORMED", "no certificate in the simulation root");
    const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
    const collateral = parseCollateralJson(sim.collateralJson);
    return (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy });
  }
  const verifier = createDcapVerifier();
  const provider = collateralProviderFor(options.pccsUrl ?? INTEL_PCS_URL, options.fetch);
  return async (der, at) => {
    const cert = parseCertificate(der);
    const collateral = await provider.get(collateralRequestFor(extractRaTlsEvidence(cert).quote));
    return verifyRaTlsCertificate(cert, { verifier, collateral, at, policy });
  };
}
