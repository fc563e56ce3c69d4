/** Error codes of the collateral area: `ERR_...` → one-line description. */
export const collateralCodes = {} as const;
