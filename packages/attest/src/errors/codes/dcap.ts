/** Error codes of the dcap area: `ERR_...` → one-line description. */
export const dcapCodes = {} as const;
