/**
 * The normalized claims model shared by every verifier, the appraisal, RA-TLS and the services:
 * what a piece of evidence, once verified, says about the workload and its platform.
 *
 * @module
 */

/** The TEE kinds Keyward verifies. */
export type TeeType = "sgx" | "tdx" | "tpm";

/**
 * Who vouches for the evidence: genuine hardware (Intel's root, a TPM maker's root or a pinned
 * AK), or Keyward's simulation root. The default policy accepts only `hardware`.
 */
export type Platform = "hardware" | "simulated";

/**
 * The statuses Intel's collateral gives a TCB level: TCB Info levels (seven), QE Identity levels
 * (UpToDate, ConfigurationNeeded, OutOfDate, OutOfDateConfigurationNeeded, Revoked) and TDX module
 * identity levels (UpToDate, OutOfDate, Revoked). `Revoked` is terminal: a quote whose platform,
 * QE or TDX module level is Revoked fails verification (QVL STATUS_TCB_REVOKED,
 * SGX_QL_QV_RESULT_REVOKED), so it never reaches a verdict.
 */
export type TcbLevelStatus =
  | "UpToDate"
  | "SWHardeningNeeded"
  | "ConfigurationNeeded"
  | "ConfigurationAndSWHardeningNeeded"
  | "OutOfDate"
  | "OutOfDateConfigurationNeeded"
  | "Revoked";

/**
 * The TCB status of a verified quote, as Intel's QVL computes it: every level status except the
 * terminal `Revoked`, plus the two TD relaunch statuses of TD report 1.5 (QVL TDRelaunchCheck.cpp:
 * the TDX module was updated in place, and relaunching the TD brings it up to date). A policy
 * chooses among these; no type, value or policy can name `Revoked`.
 */
export type TcbStatus =
  | Exclude<TcbLevelStatus, "Revoked">
  | "TDRelaunchAdvised"
  | "TDRelaunchAdvisedConfigurationNeeded";

/** Every TCB status a verified quote can have, most to least trustworthy. */
export const TCB_STATUSES: readonly TcbStatus[] = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "TDRelaunchAdvised",
  "TDRelaunchAdvisedConfigurationNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
];

/** Every status a TCB level of TCB Info may carry (what the collateral parser accepts). */
export const TCB_LEVEL_STATUSES: readonly TcbLevelStatus[] = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
];

/** Claims of an SGX enclave (from its REPORT body, `sgx_report_body_t`). */
export interface SgxClaims {
  readonly tee: "sgx";
  /** MRENCLAVE, 32 bytes. */
  readonly mrEnclave: Uint8Array;
  /** MRSIGNER, 32 bytes: SHA-256 of the enclave signer's RSA modulus. */
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  /** ATTRIBUTES, 16 bytes (flags ‖ XFRM). */
  readonly attributes: Uint8Array;
  /** ATTRIBUTES.DEBUG (flags bit 1). */
  readonly debug: boolean;
  /** ATTRIBUTES.MODE64BIT (flags bit 2). */
  readonly mode64Bit: boolean;
  readonly miscSelect: number;
  /** CPUSVN, 16 bytes. */
  readonly cpuSvn: Uint8Array;
  /** CONFIGID, 64 bytes. */
  readonly configId: Uint8Array;
  readonly configSvn: number;
  /** ISVEXTPRODID, 16 bytes. */
  readonly isvExtProdId: Uint8Array;
  /** ISVFAMILYID, 16 bytes. */
  readonly isvFamilyId: Uint8Array;
  /** REPORTDATA, 64 bytes. */
  readonly reportData: Uint8Array;
}

/** Claims of a TDX trust domain (TD report 1.0, plus the 1.5 fields when present). */
export interface TdxClaims {
  readonly tee: "tdx";
  /** TEE_TCB_SVN, 16 bytes. */
  readonly teeTcbSvn: Uint8Array;
  /** MRSEAM, 48 bytes. */
  readonly mrSeam: Uint8Array;
  /** MRSIGNERSEAM, 48 bytes. */
  readonly mrSignerSeam: Uint8Array;
  /** SEAMATTRIBUTES, 8 bytes. */
  readonly seamAttributes: Uint8Array;
  /** TDATTRIBUTES, 8 bytes. */
  readonly tdAttributes: Uint8Array;
  /** TDATTRIBUTES.DEBUG (bit 0). */
  readonly debug: boolean;
  /** TDATTRIBUTES.SEPT_VE_DISABLE (bit 28). */
  readonly septVeDisable: boolean;
  /** XFAM, 8 bytes. */
  readonly xfam: Uint8Array;
  /** MRTD, 48 bytes. */
  readonly mrTd: Uint8Array;
  /** MRCONFIGID, 48 bytes. */
  readonly mrConfigId: Uint8Array;
  /** MROWNER, 48 bytes. */
  readonly mrOwner: Uint8Array;
  /** MROWNERCONFIG, 48 bytes. */
  readonly mrOwnerConfig: Uint8Array;
  /** RTMR0..3, 48 bytes each. */
  readonly rtmr: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  /** REPORTDATA, 64 bytes. */
  readonly reportData: Uint8Array;
  /** TEE_TCB_SVN2, 16 bytes (TD report 1.5 only). */
  readonly teeTcbSvn2?: Uint8Array;
  /** MRSERVICETD, 48 bytes (TD report 1.5 only). */
  readonly mrServiceTd?: Uint8Array;
}

/** Claims of a workload, by TEE. */
export type WorkloadClaims = SgxClaims | TdxClaims;

/**
 * Authentic evidence, decoded: the output of a DCAP verifier and the input of `appraise`.
 * No policy has been applied yet; "out of date" is a claim here, not an error.
 */
export interface VerifiedQuote {
  readonly tee: "sgx" | "tdx";
  readonly quoteVersion: 3 | 4 | 5;
  readonly platform: Platform;
  /** The combined platform and QE TCB status, as Intel's QVL computes it. */
  readonly tcbStatus: TcbStatus;
  /** Advisory IDs of the matched TCB levels (platform and QE, and TDX module), sorted, unique. */
  readonly advisoryIds: readonly string[];
  /** FMSPC of the platform (6 bytes), from the PCK certificate. */
  readonly fmspc: Uint8Array;
  readonly claims: WorkloadClaims;
  /** The earliest expiry of everything the verdict rests on (collateral, CRLs, certificates). */
  readonly validUntil: Date;
}
