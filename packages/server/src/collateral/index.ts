export type { CollateralProvider, CollateralProviderOptions, CollateralRequest } from "./pcs-provider.ts";
export { createCollateralProvider } from "./pcs-provider.ts";
export { collateralRequestFor } from "./request.ts";
