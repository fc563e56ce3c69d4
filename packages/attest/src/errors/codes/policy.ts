/** Error codes of policies and their appraisal. */
export const policyCodes = {
  ERR_POLICY_INVALID: "A policy document is not valid: every problem is listed with its JSON path.",
  ERR_POLICY_REJECTED: "The evidence is authentic, but the policy does not accept it: see the failed rules.",
} as const;
