/**
 * The KMS feature's grant: `keys`, key id → the operations the caller may perform with it.
 *
 * @module
 */
import type { GrantDecision } from "../../kernel/gate.ts";
import { defineGrant, grantOf, type ServicePolicy } from "../../kernel/grants.ts";

/** Key operations a policy may grant on a KMS key. */
export const KEY_OPERATIONS = [
  "encrypt",
  "decrypt",
  "sign",
  "verify",
  "wrap",
  "unwrap",
  "getPublicKey",
] as const;
/** One of {@link KEY_OPERATIONS}. */
export type KeyOperation = (typeof KEY_OPERATIONS)[number];

/** `keys: { KEY_ID: [operation, …] }`. */
export const KEYS = defineGrant<Readonly<Record<string, readonly KeyOperation[]>>>({
  field: "keys",
  absent: {},
  parse(raw, path, problems) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      problems.push(`${path}: an object of key id → operations`);
      return {};
    }
    const out: Record<string, KeyOperation[]> = {};
    for (const [k, v] of Object.entries(raw)) {
      const items = Array.isArray(v) ? v : [v];
      if (items.length === 0 || items.length > 1024) {
        problems.push(`${path}.${k}: a list of 1 to 1024 operations`);
        continue;
      }
      const ops: KeyOperation[] = [];
      items.forEach((item, i) => {
        const op = KEY_OPERATIONS.find((o) => o === item);
        if (op === undefined)
          problems.push(`${path}.${k}[${i}]: "${String(item)}" is not one of ${KEY_OPERATIONS.join(", ")}`);
        else ops.push(op);
      });
      out[k] = ops;
    }
    return out;
  },
});

/** The grant step of operation `op` on the key named in `names` (one key id). */
export function grantKeyOperation(op: KeyOperation) {
  return (policy: ServicePolicy, names: readonly string[]): GrantDecision => {
    const keys = grantOf(policy, KEYS);
    return { names, refused: names.filter((keyId) => !(keys[keyId] ?? []).includes(op)) };
  };
}
