/**
 * Trust set-up: verification of callers' RA-TLS evidence against pinned anchors (the simulated
 * platform's root is trusted only when asked for explicitly), and the service's own credential.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import type { VerifiedQuote } from "@keyward/attest/evidence";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { issueRaTlsCertificate, type RaTlsCredential } from "@keyward/platform/ratls";
import { type SimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";
import type { VerifyCertificate } from "@keyward/server/channels";

/** The MRENCLAVE the service reports when it runs as a simulated enclave: SHA-256("keyward-service"). */
export const SIM_SERVICE_MEASUREMENT = new Uint8Array(
  createHash("sha256").update("keyward-service").digest(),
);

/** Verifies callers' evidence against the simulated platform's root and collateral (simulation mode). */
export function simulationTrust(platform: SimPlatform): VerifyCertificate {
  const root = parsePemCertificates(platform.rootCertificatePem)[0];
  if (root === undefined) throw new Error("the simulated platform has no root certificate");
  const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  const collateral = parseCollateralJson(platform.collateralJson("sgx"));
  return (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at });
}

/** The service's RA-TLS credential as a simulated enclave of `platform`. */
export function simulatedServiceCredential(platform: SimPlatform): Promise<RaTlsCredential> {
  return issueRaTlsCertificate({
    attester: simulatedPlatformAttester(platform, {
      mrEnclave: SIM_SERVICE_MEASUREMENT,
      mrSigner: SIM_SERVICE_MEASUREMENT,
      isvProdId: 1,
      isvSvn: 1,
    }),
  });
}

/** Verifies bare DCAP quotes (the challenge–response path) against the simulated platform. */
export function simulationQuoteTrust(platform: SimPlatform): (quote: Uint8Array, at: Date) => VerifiedQuote {
  const root = parsePemCertificates(platform.rootCertificatePem)[0];
  if (root === undefined) throw new Error("the simulated platform has no root certificate");
  const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  const collateral = parseCollateralJson(platform.collateralJson("sgx"));
  return (quote, at) => verifier.verify(quote, collateral, at);
}
