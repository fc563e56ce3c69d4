/**
 * Intel's Provisioning Certification Service, and a collateral provider for it or for a PCCS.
 *
 * @module
 */
import {
  type CollateralProvider,
  type CollateralProviderOptions,
  createCollateralProvider,
} from "./pcs-provider.ts";

/** Intel's Provisioning Certification Service (PCS v4) base URL. */
export const INTEL_PCS_URL = "https://api.trustedservices.intel.com";

/** Where Intel publishes the SGX Root CA's CRL (the PCS does not serve it; a PCCS does). */
const INTEL_ROOT_CA_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

/**
 * The collateral provider for a PCS or PCCS base URL (`https://…`); Intel's PCS gets the root CA
 * CRL from Intel's certificate site, a PCCS serves it itself.
 */
export function collateralProviderFor(
  pccsUrl: string,
  fetchImpl?: typeof fetch,
  more: Pick<CollateralProviderOptions, "onLookup" | "now"> = {},
): CollateralProvider {
  return createCollateralProvider({
    baseUrl: pccsUrl,
    ...(pccsUrl.replace(/\/+$/, "") === INTEL_PCS_URL ? { rootCaCrlUrl: INTEL_ROOT_CA_CRL_URL } : {}),
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
    ...more,
  });
}
