/**
 * Which secret a Gramine app gets. Gramine's protocol carries one secret per connection, so a
 * policy that grants several names the one with `gramineSecret` (seed spelling
 * `gramine_secret`); a policy granting exactly one secret needs nothing more.
 *
 * @module
 */
import type { GrantDecision } from "../../kernel/gate.ts";
import { defineGrant, grantOf, type ServicePolicy } from "../../kernel/grants.ts";

/** `gramineSecret`: the granted secret name Gramine's secret provisioning sends. */
export const GRAMINE_SECRET = defineGrant<string | undefined>({
  field: "gramineSecret",
  aliases: ["gramine_secret"],
  absent: undefined,
  parse(raw, path, problems) {
    if (typeof raw === "string" && raw.length > 0 && raw.length <= 256) return raw;
    problems.push(`${path}: the name of one of the policy's secrets (1 to 256 characters)`);
    return undefined;
  },
});

/**
 * The one name to release for a Gramine app under `policy`, among the `granted` secret names.
 * A refusal names its reason (audited as the denial's message).
 */
export function pickGramineSecret(policy: ServicePolicy, granted: readonly string[]): GrantDecision {
  const named = grantOf(policy, GRAMINE_SECRET);
  if (named !== undefined)
    return granted.includes(named)
      ? { names: [named], refused: [] }
      : { names: [], refused: [named], reason: `gramineSecret ${named} is not one of the policy's secrets` };
  const [only] = granted;
  if (granted.length === 1 && only !== undefined) return { names: [only], refused: [] };
  return {
    names: [],
    refused: ["(gramine secret)"],
    reason:
      granted.length === 0
        ? "the policy grants no secret"
        : `the policy grants ${granted.length} secrets: name the one for Gramine with gramineSecret`,
  };
}
