export type { Appraisal, RuleResult } from "./appraise.ts";
export { appraise, appraiseAgainstSet, explainAppraisal } from "./appraise.ts";
export type { KeyOperation, Policy } from "./policy.ts";
export {
  KEY_OPERATIONS,
  parsePolicy,
  parsePolicySet,
  policyFromObject,
  policySetFromObject,
} from "./policy.ts";
