/**
 * Key custody for KMS keys: generated inside the service and never exported. Material (an AES key
 * or a PKCS#8 private key) is sealed by the master key with AAD = "kms" ‖ 0x00 ‖ key id ‖ 0x00 ‖
 * version; rotation adds a version and keeps the old ones. Used by the KMS feature (operations),
 * the Admin feature (create, rotate) and master-key rotation.
 *
 * @module
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { Store, StoredKey } from "../store/contract.ts";
import { gcmOpen, gcmSeal } from "./envelope.ts";

/** The algorithms a KMS key may have. */
export const KEY_ALGORITHMS = ["AES-256-GCM", "P-256", "Ed25519", "RSA-3072"] as const;
/** One of {@link KEY_ALGORITHMS}. */
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** The additional data binding a key version's sealed material to its id and version. */
export function keyAad(keyId: string, version: number): Uint8Array {
  return new TextEncoder().encode(`kms\u0000${keyId}\u0000${version}`);
}

function generate(algorithm: KeyAlgorithm): { material: Uint8Array; publicKey: Uint8Array } {
  if (algorithm === "AES-256-GCM")
    return { material: new Uint8Array(randomBytes(32)), publicKey: new Uint8Array() };
  const pair =
    algorithm === "P-256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : algorithm === "Ed25519"
        ? generateKeyPairSync("ed25519")
        : generateKeyPairSync("rsa", { modulusLength: 3072 });
  return {
    material: new Uint8Array(pair.privateKey.export({ type: "pkcs8", format: "der" })),
    publicKey: new Uint8Array(pair.publicKey.export({ type: "spki", format: "der" })),
  };
}

/**
 * Creates a key (version 1) or, when it exists, rotates it (a new version; old ones kept).
 * @throws ERR_SERVICE_REQUEST_INVALID for a bad key id, an unknown algorithm, or another algorithm than the key's
 */
export async function createOrRotateKey(
  store: Store,
  masterKey: Uint8Array,
  keyId: string,
  algorithm: KeyAlgorithm,
  subject: string,
): Promise<StoredKey> {
  if (!/^[A-Za-z0-9_.\-/]{1,128}$/.test(keyId))
    throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "key id must be 1-128 of [A-Za-z0-9_.-/]");
  if (!KEY_ALGORITHMS.includes(algorithm))
    throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "unsupported key algorithm");
  const existing = await store.getKeyVersion(keyId);
  if (existing !== undefined && existing.algorithm !== algorithm)
    throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", `key ${keyId} is ${existing.algorithm}`);
  return store.putKeyVersion(
    keyId,
    (version) => {
      const g = generate(algorithm);
      try {
        return {
          algorithm,
          sealedMaterial: gcmSeal(masterKey, g.material, keyAad(keyId, version)),
          publicKey: g.publicKey,
        };
      } finally {
        g.material.fill(0);
      }
    },
    {
      action: existing === undefined ? "key.create" : "key.rotate",
      outcome: "ok",
      subject,
      detail: { algorithm },
    },
  );
}

/** A key version's material, unsealed (the caller zeroes it). @throws ERR_SERVICE_SECRET_INTEGRITY */
export function keyMaterial(masterKey: Uint8Array, k: StoredKey): Uint8Array {
  return gcmOpen(masterKey, k.sealedMaterial, keyAad(k.keyId, k.version));
}

/** An asymmetric key version's private key. @throws ERR_SERVICE_SECRET_INTEGRITY */
export function privateKeyOf(masterKey: Uint8Array, k: StoredKey): KeyObject {
  const m = keyMaterial(masterKey, k);
  try {
    return createPrivateKey({ key: Buffer.from(m), format: "der", type: "pkcs8" });
  } finally {
    m.fill(0);
  }
}

/** A key version's material re-sealed under a new master key (master-key rotation). */
export function resealKey(oldKey: Uint8Array, newKey: Uint8Array, k: StoredKey): StoredKey {
  const m = keyMaterial(oldKey, k);
  try {
    return { ...k, sealedMaterial: gcmSeal(newKey, m, keyAad(k.keyId, k.version)) };
  } finally {
    m.fill(0);
  }
}
