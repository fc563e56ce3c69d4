/**
 * KMS operations on stored keys (encrypt, decrypt, sign, verify, wrap, unwrap, public key): keys
 * are used inside the service and never exported (kernel/keys.ts keeps them sealed). Pure with
 * respect to the network; the RPC handlers (service.ts) call them through the gate.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import { keyMaterial, privateKeyOf } from "../../kernel/keys.ts";
import type { Store, StoredKey } from "../../store/contract.ts";

/** A signature and the key version that made it. */
export interface Signature {
  readonly signature: Uint8Array;
  readonly version: number;
}

/** The operations of {@link kmsOperations}. */
export interface KmsOperations {
  getPublicKey(keyId: string): Promise<{ algorithm: string; version: number; spki: Uint8Array }>;
  encrypt(keyId: string, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  decrypt(keyId: string, blob: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  sign(keyId: string, message: Uint8Array): Promise<Signature>;
  verify(keyId: string, message: Uint8Array, signature: Uint8Array, version?: number): Promise<boolean>;
  wrap(keyId: string, keyMaterial: Uint8Array): Promise<Uint8Array>;
  unwrap(keyId: string, wrapped: Uint8Array): Promise<Uint8Array>;
}

/**
 * The operations on the keys of `store`. AES-256-GCM ciphertexts are version (u32 BE) ‖ IV (12) ‖
 * ciphertext ‖ tag (16), so rotation keeps old ciphertexts decryptable; signatures: P-256 ECDSA
 * (IEEE P1363), Ed25519, RSA-3072 PSS (SHA-256, salt 32).
 * @throws ERR_SERVICE_SECRET_NOT_FOUND (no such key or version), ERR_SERVICE_REQUEST_INVALID (wrong key type), ERR_SERVICE_SECRET_INTEGRITY
 */
export function kmsOperations(store: Store, masterKey: Uint8Array): KmsOperations {
  async function load(keyId: string, version?: number): Promise<StoredKey> {
    const k = await store.getKeyVersion(keyId, version);
    if (k === undefined) throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "no such key or key version");
    return k;
  }
  const material = (k: StoredKey) => keyMaterial(masterKey, k);
  const privateKey = (k: StoredKey): KeyObject => privateKeyOf(masterKey, k);
  const aes = (k: StoredKey) => {
    if (k.algorithm !== "AES-256-GCM")
      throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "not a symmetric key");
    return material(k);
  };
  // Ed25519 hashes inside the signature scheme; ECDSA and RSA-PSS sign SHA-256 digests.
  const signOpts = (k: StoredKey) => (k.algorithm === "Ed25519" ? null : "sha256");
  const padding = (k: StoredKey, key: KeyObject) =>
    k.algorithm === "RSA-3072"
      ? { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }
      : k.algorithm === "P-256"
        ? { key, dsaEncoding: "ieee-p1363" as const }
        : { key };
  function seal(k: StoredKey, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const key = aes(k);
    try {
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", key, iv);
      c.setAAD(aad);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(k.version);
      return Buffer.concat([head, iv, c.update(plaintext), c.final(), c.getAuthTag()]);
    } finally {
      key.fill(0);
    }
  }
  async function open(keyId: string, blob: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    if (blob.byteLength < 32) throw new KeywardError("ERR_SERVICE_SECRET_INTEGRITY", "ciphertext too short");
    const version = Buffer.from(blob).readUInt32BE(0);
    const key = aes(await load(keyId, version));
    try {
      const d = createDecipheriv("aes-256-gcm", key, blob.subarray(4, 16));
      d.setAAD(aad);
      d.setAuthTag(blob.subarray(blob.byteLength - 16));
      return new Uint8Array(Buffer.concat([d.update(blob.subarray(16, blob.byteLength - 16)), d.final()]));
    } catch (cause) {
      throw new KeywardError("ERR_SERVICE_SECRET_INTEGRITY", "ciphertext does not authenticate", { cause });
    } finally {
      key.fill(0);
    }
  }
  const WRAP_AAD = new TextEncoder().encode("keyward-wrap-v1");
  return {
    async getPublicKey(keyId: string) {
      const k = await load(keyId);
      if (k.algorithm === "AES-256-GCM")
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "a symmetric key has no public key");
      return { algorithm: k.algorithm, version: k.version, spki: k.publicKey };
    },
    async encrypt(keyId: string, plaintext: Uint8Array, aad: Uint8Array) {
      return seal(await load(keyId), plaintext, aad);
    },
    decrypt: open,
    async sign(keyId: string, message: Uint8Array) {
      const k = await load(keyId);
      if (k.algorithm === "AES-256-GCM")
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "a symmetric key cannot sign");
      return {
        signature: new Uint8Array(cryptoSign(signOpts(k), message, padding(k, privateKey(k)))),
        version: k.version,
      };
    },
    async verify(keyId: string, message: Uint8Array, signature: Uint8Array, version?: number) {
      const k = await load(keyId, version);
      if (k.algorithm === "AES-256-GCM")
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "a symmetric key cannot verify");
      const pub = createPublicKey({ key: Buffer.from(k.publicKey), format: "der", type: "spki" });
      return cryptoVerify(signOpts(k), message, padding(k, pub), signature);
    },
    async wrap(keyId: string, keyMaterial: Uint8Array) {
      if (keyMaterial.byteLength > 8192)
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "key material too large");
      return seal(await load(keyId), keyMaterial, WRAP_AAD);
    },
    unwrap: (keyId: string, wrapped: Uint8Array) => open(keyId, wrapped, WRAP_AAD),
  };
}
