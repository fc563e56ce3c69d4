/** Error codes of the cbor area: `ERR_...` → one-line description. */
export const cborCodes = {} as const;
