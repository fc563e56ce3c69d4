/**
 * Master-key rotation: every secret version's data key and every KMS key's material is re-sealed
 * under the new master key in one transaction (ciphertexts of secrets are unchanged).
 *
 * @module
 */
import { gcmOpen, gcmSeal, rewrapSecret } from "./envelope.ts";
import type { Store } from "./store.ts";

const kmsAad = (keyId: string, version: number) =>
  new TextEncoder().encode(`kms\u0000${keyId}\u0000${version}`);

export async function rotateMasterKey(store: Store, oldKey: Uint8Array, newKey: Uint8Array, subject: string) {
  const secrets = (await store.listSecretVersions()).map((s) => ({
    ...s,
    ...rewrapSecret(oldKey, newKey, s.name, s.version, s),
  }));
  const keys = (await store.listKeyVersions()).map((k) => {
    const m = gcmOpen(oldKey, k.sealedMaterial, kmsAad(k.keyId, k.version));
    try {
      return { ...k, sealedMaterial: gcmSeal(newKey, m, kmsAad(k.keyId, k.version)) };
    } finally {
      m.fill(0);
    }
  });
  await store.rotateMasterKey(secrets, keys, { action: "master-key.rotate", outcome: "ok", subject });
  return { secrets: secrets.length, keys: keys.length };
}
