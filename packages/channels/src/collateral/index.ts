/**
 * DCAP collateral from Intel's PCS or a PCCS, fetched per FMSPC and cached until its nextUpdate.
 *
 * @module
 */
export { collateralProviderFor, INTEL_PCS_URL } from "./intel-pcs.ts";
export type { CollateralProvider, CollateralProviderOptions, CollateralRequest } from "./pcs-provider.ts";
export { createCollateralProvider } from "./pcs-provider.ts";
export { collateralRequestFor } from "./request.ts";
