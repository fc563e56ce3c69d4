export type { Appraisal, RuleResult } from "./appraise.ts";
export { appraise, appraiseAgainstSet, explainAppraisal } from "./appraise.ts";
export type { Policy, PolicyReading, PolicyReadOptions } from "./policy.ts";
export {
  parsePolicy,
  parsePolicySet,
  policyFromObject,
  policyListOf,
  policySetFromObject,
  readPolicyDocument,
} from "./policy.ts";
export { indexPolicies, type PolicyIndex, policyIndexOf } from "./policy-index.ts";
