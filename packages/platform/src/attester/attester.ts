/**
 * One interface for every source of evidence on this machine: Gramine's /dev/attestation, Linux
 * configfs-tsm (TDX, SEV-SNP), TPM 2.0, or the simulated platform.
 *
 * @module
 */
import type { Platform, WorkloadClaims } from "@keyward/attest/evidence";

/** What kind of evidence a backend produces. */
export type EvidenceKind = "sgx-dcap" | "tdx-dcap" | "sev-snp-report";

/** Evidence as produced by the platform: the bytes a verifier takes. */
export interface Evidence {
  readonly kind: EvidenceKind;
  /** The quote or report, byte for byte as the platform produced it. */
  readonly quote: Uint8Array;
  /** Who signed it: real hardware, or Keyward's simulation root. */
  readonly platform: Platform;
}

/** The sealing-key policies: bind to this exact enclave, or to its signer (and product). */
export type SealPolicy = "mrenclave" | "mrsigner";

/** A request for a sealing key, like EGETKEY's KEYREQUEST. */
export interface SealKeyRequest {
  readonly policy: SealPolicy;
  /** 32 bytes chosen by the caller and recorded in the sealed blob. */
  readonly keyId: Uint8Array;
  /** The SVN to derive for: our own or lower, never higher. */
  readonly isvSvn: number;
}

/** A source of evidence, and of sealing keys where the platform offers them. */
export interface Attester {
  readonly backend: "gramine" | "configfs-tsm" | "simulated";
  /** Evidence whose report data is exactly `reportData` (64 bytes). */
  attest(reportData: Uint8Array): Promise<Evidence>;
  /** The claims the platform asserts about this workload (from a local report). */
  identity(): Promise<WorkloadClaims>;
  /** A 32-byte sealing key, when the backend offers sealing; undefined otherwise. */
  readonly sealingKey?: (request: SealKeyRequest) => Promise<Uint8Array>;
}
