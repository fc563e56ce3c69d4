/** Error codes of the service area: `ERR_...` → one-line description. */
export const serviceCodes = {} as const;
