/** Error codes of the ratls area: `ERR_...` → one-line description. */
export const ratlsCodes = {} as const;
