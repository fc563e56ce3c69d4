/** Error codes of the sim area: `ERR_...` → one-line description. */
export const simCodes = {} as const;
