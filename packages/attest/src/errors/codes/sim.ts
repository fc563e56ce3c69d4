/** Error codes of the simulated platform. */
export const simCodes = {
  ERR_SIM_EXISTS:
    "A simulated platform already exists there; pass --force to replace it (its sealed data is lost).",
  ERR_SIM_NOT_FOUND: "No simulated platform in the data directory: run `keyward sim init`.",
} as const;
