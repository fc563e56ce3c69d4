/**
 * Reading a service policy document outside the service (`@keyward/server/policy`): the CLI's
 * `--policy FILE` takes the same documents the service enforces, grants included, and appraises
 * with their rules.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { ServicePolicy } from "./kernel/grants.ts";
import { POLICY_READER } from "./main.ts";

export type { ServicePolicy } from "./kernel/grants.ts";

/**
 * One policy from JSON text, its grants validated by the features that own them.
 * @throws ERR_POLICY_INVALID listing every problem with its path
 */
export function parseServicePolicy(text: string, source: string): ServicePolicy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new KeywardError("ERR_POLICY_INVALID", `${source}: not valid JSON`, {
      cause,
      detail: { source, problems: ["$: not valid JSON"] },
    });
  }
  return POLICY_READER.policy(value, source);
}
