/**
 * Appraisal: verified claims against a policy. Every rule is evaluated and reported with its
 * expected and actual values, so an operator sees all that is wrong at once. "Out of date" is a
 * claim judged here, never a verification error.
 *
 * @module
 */
import { bytesEqual } from "../bytes/equal.ts";
import { toHex } from "../bytes/hex.ts";
import type { TdxClaims, VerifiedQuote } from "../evidence/claims.ts";
import type { Policy } from "./policy.ts";
import { policyIndexOf } from "./policy-index.ts";

/** One evaluated rule. */
export interface RuleResult {
  readonly rule: string;
  readonly passed: boolean;
  readonly expected: string;
  readonly actual: string;
}

/** The decision of one policy on one piece of evidence. */
export interface Appraisal {
  readonly policyId: string;
  readonly accepted: boolean;
  readonly results: readonly RuleResult[];
  readonly failed: readonly RuleResult[];
}

/** Evaluates every rule of `policy` on `verified`. Pure. */
export function appraise(verified: VerifiedQuote, policy: Policy): Appraisal {
  const results: RuleResult[] = [];
  const rule = (name: string, passed: boolean, expected: string, actual: string) =>
    results.push({ rule: name, passed, expected, actual });
  const c = verified.claims;

  rule(
    "tee",
    policy.tee.some((t) => t === verified.tee),
    oneOf(policy.tee),
    verified.tee,
  );
  rule("platform", policy.platforms.includes(verified.platform), oneOf(policy.platforms), verified.platform);
  rule("debug", policy.allowDebug || !c.debug, policy.allowDebug ? "any" : "false", String(c.debug));
  rule(
    "tcbStatus",
    policy.tcbStatuses.includes(verified.tcbStatus),
    oneOf(policy.tcbStatuses),
    verified.tcbStatus,
  );
  if (policy.advisoryIds !== undefined) {
    const allowed = policy.advisoryIds;
    const unlisted = verified.advisoryIds.filter((a) => !allowed.includes(a));
    rule("advisoryIds", unlisted.length === 0, `only ${oneOf(allowed)}`, list(verified.advisoryIds));
  }

  const sgx = c.tee === "sgx" ? c : undefined;
  const tdx = c.tee === "tdx" ? c : undefined;
  measurement(rule, "mrEnclave", policy.mrEnclave, sgx?.mrEnclave);
  measurement(rule, "mrSigner", policy.mrSigner, sgx?.mrSigner);
  if (policy.isvProdId !== undefined) {
    const allowed = policy.isvProdId;
    rule(
      "isvProdId",
      sgx !== undefined && allowed.includes(sgx.isvProdId),
      oneOf(allowed.map(String)),
      absent(sgx?.isvProdId),
    );
  }
  if (policy.minIsvSvn !== undefined) {
    const min = policy.minIsvSvn;
    rule("minIsvSvn", sgx !== undefined && sgx.isvSvn >= min, `>= ${min}`, absent(sgx?.isvSvn));
  }
  measurement(rule, "mrTd", policy.mrTd, tdx?.mrTd);
  for (const i of [0, 1, 2, 3] as const) measurement(rule, `rtmr${i}`, policy[`rtmr${i}`], tdx?.rtmr[i]);
  measurement(rule, "mrConfigId", policy.mrConfigId, tdx?.mrConfigId);
  measurement(rule, "mrOwner", policy.mrOwner, tdx?.mrOwner);
  measurement(rule, "mrOwnerConfig", policy.mrOwnerConfig, tdx?.mrOwnerConfig);
  measurement(rule, "mrSeam", policy.mrSeam, tdx?.mrSeam);
  measurement(rule, "mrServiceTd", policy.mrServiceTd, tdx?.mrServiceTd);
  if (policy.requireSeptVeDisable && verified.tee === "tdx") {
    rule("septVeDisable", (c as TdxClaims).septVeDisable, "true", String((c as TdxClaims).septVeDisable));
  }
  const failed = results.filter((r) => !r.passed);
  return { policyId: policy.id, accepted: failed.length === 0, results, failed };
}

/**
 * The first policy of `policies` (in order) that accepts `verified`, and the appraisals made on
 * the way. Only the policies that could accept this caller are appraised — those pinning its
 * MRENCLAVE, MRSIGNER or MRTD, and those pinning none of them (policy-index.ts) — so the cost
 * does not grow with the policies written for other workloads. The set must not be mutated in
 * place once used (its index is cached per array).
 */
export function appraiseAgainstSet<P extends Policy>(
  verified: VerifiedQuote,
  policies: readonly P[],
): { readonly accepted: P | undefined; readonly appraisals: readonly Appraisal[] } {
  const appraisals: Appraisal[] = [];
  for (const i of policyIndexOf(policies).candidates(verified)) {
    const policy = policies[i] as P;
    const a = appraise(verified, policy);
    appraisals.push(a);
    if (a.accepted) return { accepted: policy, appraisals };
  }
  return { accepted: undefined, appraisals };
}

/** A human rendering of an appraisal, one line per rule. */
export function explainAppraisal(a: Appraisal): string {
  const lines = [`policy ${a.policyId}: ${a.accepted ? "accepted" : "rejected"}`];
  for (const r of a.results) {
    lines.push(`  ${r.passed ? "pass" : "FAIL"} ${r.rule}: expected ${r.expected}; actual ${r.actual}`);
  }
  return lines.join("\n");
}

// A reference-value rule fails closed when the evidence has no such claim (e.g. MRTD for SGX).
function measurement(
  rule: (name: string, passed: boolean, expected: string, actual: string) => void,
  name: string,
  allowed: readonly Uint8Array[] | undefined,
  actual: Uint8Array | undefined,
): void {
  if (allowed === undefined) return;
  const passed = actual !== undefined && allowed.some((a) => bytesEqual(a, actual));
  rule(name, passed, oneOf(allowed.map(toHex)), actual === undefined ? "(absent)" : toHex(actual));
}

function oneOf(values: readonly string[]): string {
  return values.length === 1 ? (values[0] ?? "") : `one of [${values.join(", ")}]`;
}

function list(values: readonly string[]): string {
  return `[${values.join(", ")}]`;
}

function absent(v: number | undefined): string {
  return v === undefined ? "(absent)" : String(v);
}
