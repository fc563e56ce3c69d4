/**
 * Trust set-up: verification of callers' RA-TLS evidence against pinned anchors (the simulated
 * platform's root is trusted only when asked for explicitly), and the service's own credential.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createDcapVerifier, parseCollateralJson, parseDcapQuote } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import type { VerifiedQuote } from "@keyward/attest/evidence";
import { extractRaTlsEvidence, verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parseCertificate, parsePemCertificates } from "@keyward/attest/x509";
import { type CollateralProvider, collateralRequestFor } from "@keyward/channels/collateral";
import type { TlsCredential, VerifyCertificate } from "@keyward/channels/tls";
import { issueRaTlsCertificate, type RaTlsCredential } from "@keyward/platform/ratls";
import { type SimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";

/** The MRENCLAVE the service reports when it runs as a simulated enclave: SHA-256("keyward-service"). */
export const SIM_SERVICE_MEASUREMENT = new Uint8Array(
  createHash("sha256").update("keyward-service").digest(),
);

/** Verifies callers' evidence against the simulated platform's root and collateral (simulation mode). */
export function simulationTrust(platform: SimPlatform): VerifyCertificate {
  const { verifier, collateral } = simulationVerifier(platform);
  return (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at });
}

// A verifier anchored only at the simulated platform's root, with its SGX collateral (and its TDX
// collateral for bare TDX quotes).
function simulationVerifier(platform: SimPlatform) {
  const root = parsePemCertificates(platform.rootCertificatePem)[0];
  if (root === undefined)
    throw new KeywardError("ERR_SERVICE_CONFIG", "the simulated platform has no root certificate");
  return {
    verifier: createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] }),
    collateral: parseCollateralJson(platform.collateralJson("sgx")),
    tdxCollateral: parseCollateralJson(platform.collateralJson("tdx")),
  };
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

/**
 * Verifies bare DCAP quotes (the challenge–response path, KBS evidence) against the simulated
 * platform, with the collateral of the quote's TEE (SGX or TDX).
 */
export function simulationQuoteTrust(platform: SimPlatform): (quote: Uint8Array, at: Date) => VerifiedQuote {
  const { verifier, collateral, tdxCollateral } = simulationVerifier(platform);
  return (quote, at) =>
    verifier.verify(quote, parseDcapQuote(quote).header.teeType === 0 ? collateral : tdxCollateral, at);
}

/**
 * Hardware mode: callers' evidence verified against Intel's root (pinned in the code), with
 * collateral fetched for each quote's FMSPC from a PCS or PCCS (cached until its nextUpdate).
 */
export function hardwareTrust(
  provider: CollateralProvider,
  verifier = createDcapVerifier(),
): VerifyCertificate {
  return async (der, at) => {
    const cert = parseCertificate(der);
    const { quote } = extractRaTlsEvidence(cert);
    const collateral = await provider.get(collateralRequestFor(quote));
    return verifyRaTlsCertificate(cert, { verifier, collateral, at });
  };
}

/** Hardware mode for bare quotes (the challenge–response path and Explain). */
export function hardwareQuoteTrust(
  provider: CollateralProvider,
  verifier = createDcapVerifier(),
): (quote: Uint8Array, at: Date) => Promise<VerifiedQuote> {
  return async (quote, at) => verifier.verify(quote, await provider.get(collateralRequestFor(quote)), at);
}

/** The pieces that differ between simulation and hardware mode. */
export interface ServiceTrust {
  /** Verifies a caller's RA-TLS certificate (evidence only; appraisal is the gate's). */
  readonly verifyPeer: VerifyCertificate;
  /** Verifies a bare DCAP quote (the challenge path, Explain). */
  readonly verifyQuote: (quote: Uint8Array, at: Date) => VerifiedQuote | Promise<VerifiedQuote>;
  /** The service's own certificate and key. */
  readonly credential: TlsCredential;
  /** For the start-up log line. */
  readonly describe: Readonly<Record<string, string>>;
}
