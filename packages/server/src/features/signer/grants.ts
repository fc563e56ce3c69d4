/**
 * The device registry's grant: `signerPurposes`, the key purposes an enclave the policy accepts may
 * register keys for (`"signerPurposes": ["iot-readings"]`). Absent: none.
 *
 * @module
 */
import { isKeyPurpose } from "@keyward/attest/signer";
import type { GrantDecision } from "../../kernel/gate.ts";
import { defineGrant, grantOf, type ServicePolicy } from "../../kernel/grants.ts";

/** `signerPurposes: [purpose, …]`. */
export const SIGNER_PURPOSES = defineGrant<readonly string[]>({
  field: "signerPurposes",
  absent: [],
  parse(raw, path, problems) {
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > 64) {
      problems.push(`${path}: a list of 1 to 64 key purposes`);
      return [];
    }
    const out: string[] = [];
    raw.forEach((p, i) => {
      if (typeof p === "string" && isKeyPurpose(p)) out.push(p);
      else problems.push(`${path}[${i}]: a key purpose is 1-64 characters of [a-z0-9._-]`);
    });
    return out;
  },
});

/** The grant step of a registration: the accepting policy must grant the key's `purpose`. */
export function grantPurpose(purpose: string) {
  return (policy: ServicePolicy, names: readonly string[]): GrantDecision =>
    grantOf(policy, SIGNER_PURPOSES).includes(purpose)
      ? { names, refused: [] }
      : { names, refused: names, reason: `policy ${policy.id} does not grant key purpose "${purpose}"` };
}
