/**
 * The secrets feature's grant: `secrets`, granted name → source reference (sources/).
 *
 * @module
 */
import type { GrantDecision } from "../../kernel/gate.ts";
import { defineGrant, grantOf, type ServicePolicy } from "../../kernel/grants.ts";
import { sourceOf } from "./sources/index.ts";

/** `secrets: { NAME: REFERENCE }`. */
export const SECRETS = defineGrant<Readonly<Record<string, string>>>({
  field: "secrets",
  absent: {},
  parse(raw, path, problems) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      problems.push(`${path}: an object of name → source reference`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== "string" || v.length === 0)
        problems.push(`${path}.${k}: a non-empty source reference`);
      else out[k] = v;
    }
    return out;
  },
  confine(granted, path, problems, options) {
    for (const [name, ref] of Object.entries(granted)) {
      const problem = sourceOf(ref, options).confine?.(ref, options);
      if (problem !== undefined) problems.push(`${path}.${name}: ${problem}`);
    }
  },
});

/** The names to release: those asked for, or every granted one when none was named. */
export function grantSecrets(policy: ServicePolicy, names: readonly string[]): GrantDecision {
  const granted = grantOf(policy, SECRETS);
  const asked = names.length === 0 ? Object.keys(granted).sort() : names;
  return { names: asked, refused: asked.filter((n) => !Object.hasOwn(granted, n)) };
}
