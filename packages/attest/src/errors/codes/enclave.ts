/** Error codes of the enclave area: `ERR_...` → one-line description. */
export const enclaveCodes = {} as const;
