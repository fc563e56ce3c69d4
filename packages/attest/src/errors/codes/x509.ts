/** Error codes of the x509 area: `ERR_...` → one-line description. */
export const x509Codes = {} as const;
