/**
 * Reading a service policy document outside the service (`@keyward/server/policy`): the CLI's
 * `--policy FILE` takes the same documents the service enforces, grants included, and appraises
 * with their rules.
 *
 * @module
 */
import type { ServicePolicy } from "./kernel/grants.ts";
import { parsePolicyText } from "./kernel/policy-text.ts";
import { POLICY_READER } from "./main.ts";

export type { ServicePolicy } from "./kernel/grants.ts";

/**
 * One policy from JSON text (strictly: a key given twice is an error), its grants validated by
 * the features that own them.
 * @throws ERR_POLICY_INVALID listing every problem with its path or its line and column
 */
export function parseServicePolicy(text: string, source: string): ServicePolicy {
  return POLICY_READER.policy(parsePolicyText(text, "json", source), source);
}
