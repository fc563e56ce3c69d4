/**
 * Master-key rotation: every secret version's data key, every KMS key's material and every stored
 * policy version is re-sealed under the new master key in one transaction (ciphertexts of secrets
 * are unchanged).
 *
 * @module
 */
import { rewrapSecret } from "../../kernel/envelope.ts";
import type { Feature } from "../../kernel/feature.ts";
import { resealKey } from "../../kernel/keys.ts";
import { resealPolicies } from "../../kernel/policy-sealing.ts";
import { resealStableValues } from "../../kernel/stable-key.ts";
import type { Store } from "../../store/contract.ts";

/**
 * Re-seals everything under `newKey`, audited as `master-key.rotate` by `subject`: secrets, KMS
 * keys, stored policies, the sealed values (the stable key) and each of `features`' own sealed
 * rows (`Feature.reseal`), in one transaction. Returns how many of each.
 * @throws ERR_SERVICE_SECRET_INTEGRITY when a row does not open under `oldKey` (nothing is changed)
 */
export async function rotateMasterKey(
  store: Store,
  oldKey: Uint8Array,
  newKey: Uint8Array,
  subject: string,
  features: readonly Pick<Feature, "name" | "reseal">[] = [],
): Promise<Readonly<Record<string, number>>> {
  const secrets = (await store.listSecretVersions()).map((s) => ({
    ...s,
    ...rewrapSecret(oldKey, newKey, s.name, s.version, s),
  }));
  const keys = (await store.listKeyVersions()).map((k) => resealKey(oldKey, newKey, k));
  const policies = await resealPolicies(store, oldKey, newKey);
  const more = await store.rotateMasterKey(
    secrets,
    keys,
    { action: "master-key.rotate", outcome: "ok", subject },
    policies,
    async (tx) => {
      const counts: Record<string, number> = { sealedValues: await resealStableValues(tx, oldKey, newKey) };
      for (const f of features)
        if (f.reseal !== undefined) counts[f.name] = await f.reseal(tx, oldKey, newKey);
      return counts;
    },
  );
  return { secrets: secrets.length, keys: keys.length, policies: policies.length, ...more };
}
