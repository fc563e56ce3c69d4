export type { SimulatedEnclaveIdentity } from "./attester.ts";
export { simulatedPlatformAttester } from "./attester.ts";
export type { SimTee } from "./collateral.ts";
export type { SimInitOptions, SimPlatform } from "./platform.ts";
export { initSimPlatform, loadSimPlatform, refreshSimCollateral } from "./platform.ts";
export { SIM_FMSPC, SIM_QE, SIM_TEE_TCB_SVN } from "./profile.ts";
export type { SgxReportInput, TdReportInput } from "./quote.ts";
