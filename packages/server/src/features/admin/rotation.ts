/**
 * Master-key rotation: every secret version's data key, every KMS key's material and every stored
 * policy version is re-sealed under the new master key in one transaction (ciphertexts of secrets
 * are unchanged).
 *
 * @module
 */
import { rewrapSecret } from "../../kernel/envelope.ts";
import { resealKey } from "../../kernel/keys.ts";
import { resealPolicies } from "../../kernel/policy-sealing.ts";
import type { Store } from "../../store/contract.ts";

/**
 * Re-seals everything under `newKey`, audited as `master-key.rotate` by `subject`.
 * @throws ERR_SERVICE_SECRET_INTEGRITY when a row does not open under `oldKey` (nothing is changed)
 */
export async function rotateMasterKey(
  store: Store,
  oldKey: Uint8Array,
  newKey: Uint8Array,
  subject: string,
): Promise<{ secrets: number; keys: number; policies: number }> {
  const secrets = (await store.listSecretVersions()).map((s) => ({
    ...s,
    ...rewrapSecret(oldKey, newKey, s.name, s.version, s),
  }));
  const keys = (await store.listKeyVersions()).map((k) => resealKey(oldKey, newKey, k));
  const policies = await resealPolicies(store, oldKey, newKey);
  await store.rotateMasterKey(
    secrets,
    keys,
    { action: "master-key.rotate", outcome: "ok", subject },
    policies,
  );
  return { secrets: secrets.length, keys: keys.length, policies: policies.length };
}
