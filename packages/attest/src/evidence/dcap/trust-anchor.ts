/**
 * Trust anchors of DCAP verification: pinned roots and what each vouches for. Intel's SGX Root CA
 * is embedded and checked against its SHA-256 fingerprint; any other anchor (the simulation
 * root) is added by the caller, explicitly.
 *
 * @module
 */
import { toHex } from "../../bytes/hex.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { type Certificate, parsePemCertificates } from "../../x509/certificate.ts";
import type { Platform } from "../claims.ts";
import { INTEL_SGX_ROOT_CA_PEM, INTEL_SGX_ROOT_CA_SHA256 } from "./intel-root.ts";

/** A pinned root and what it vouches for. */
export interface TrustAnchor {
  readonly certificate: Certificate;
  /** `hardware` for Intel's root; `simulated` for Keyward's simulation root. */
  readonly platform: Platform;
}

let intelAnchor: TrustAnchor | undefined;

/**
 * The pinned Intel SGX Root CA as a hardware trust anchor (its fingerprint checked once).
 * @throws ERR_INTERNAL if the embedded copy does not match its fingerprint
 */
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
