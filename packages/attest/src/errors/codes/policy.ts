/** Error codes of the policy area: `ERR_...` → one-line description. */
export const policyCodes = {} as const;
