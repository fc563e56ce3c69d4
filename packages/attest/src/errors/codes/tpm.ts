/** Error codes of the tpm area: `ERR_...` → one-line description. */
export const tpmCodes = {} as const;
