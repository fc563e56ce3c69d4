/** Error codes of collateral fetching (PCS / PCCS). */
export const collateralCodes = {
  ERR_COLLATERAL_FETCH_FAILED:
    "Collateral could not be fetched from the PCS/PCCS (network failure, timeout or HTTP error).",
  ERR_COLLATERAL_MALFORMED:
    "A PCS/PCCS response is malformed: missing issuer-chain header, oversized, or not the expected format.",
} as const;
