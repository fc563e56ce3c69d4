/**
 * KMS: keys created and used inside the service, never exported. Material (AES key or PKCS#8
 * private key) is sealed by the master key with AAD = "kms" ‖ key id ‖ version; rotation adds a
 * version and keeps the old ones (decrypt/verify still use them). Operations over mutual RA-TLS
 * are allowed per key and per operation by the caller's policy (`keys`).
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { appraiseAgainstSet, type KeyOperation, type Policy } from "@keyward/attest/appraisal";
import { KeywardError } from "@keyward/attest/errors";
import { claimsRecord } from "@keyward/attest/evidence";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import { peerIdentityKey } from "@keyward/channels/grpc";
import { KeyManagementService } from "@keyward/proto/keyward/v1";
import { gcmOpen, gcmSeal } from "./envelope.ts";
import { toConnectError } from "./errors.ts";
import { subjectOf } from "./service.ts";
import type { Store, StoredKey } from "./store.ts";

export const KEY_ALGORITHMS = ["AES-256-GCM", "P-256", "Ed25519", "RSA-3072"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

const aadOf = (keyId: string, version: number) =>
  new TextEncoder().encode(`kms\u0000${keyId}\u0000${version}`);

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

/** Creates a key (version 1) or, when it exists, rotates it (a new version; old ones kept). */
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
          sealedMaterial: gcmSeal(masterKey, g.material, aadOf(keyId, version)),
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

/** The operations on stored keys; pure with respect to the network (used by the RPC handlers). */
export function kmsOperations(store: Store, masterKey: Uint8Array) {
  async function load(keyId: string, version?: number): Promise<StoredKey> {
    const k = await store.getKeyVersion(keyId, version);
    if (k === undefined) throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "no such key or key version");
    return k;
  }
  const material = (k: StoredKey) => gcmOpen(masterKey, k.sealedMaterial, aadOf(k.keyId, k.version));
  const privateKey = (k: StoredKey): KeyObject => {
    const m = material(k);
    try {
      return createPrivateKey({ key: Buffer.from(m), format: "der", type: "pkcs8" });
    } finally {
      m.fill(0);
    }
  };
  const aes = (k: StoredKey) => {
    if (k.algorithm !== "AES-256-GCM")
      throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "not a symmetric key");
    return material(k);
  };
  const signOpts = (k: StoredKey) =>
    k.algorithm === "Ed25519" ? null : k.algorithm === "RSA-3072" ? "sha256" : "sha256";
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

/**
 * KeyManagementService's methods, given the caller's verified identity: each call appraised,
 * checked against the policy's `keys` grant, and audited before it answers. Served both through
 * Connect ({@link registerKms}) and the lean unary gRPC path.
 */
export function kmsImplementation(options: {
  store: Store;
  masterKey: Uint8Array;
  policies: () => readonly Policy[];
}) {
  const ops = kmsOperations(options.store, options.masterKey);
  async function guarded<T>(
    peer: RaTlsVerdict | undefined,
    keyId: string,
    op: KeyOperation,
    run: () => Promise<T>,
  ): Promise<T> {
    try {
      if (peer === undefined)
        throw new KeywardError(
          "ERR_SERVICE_NOT_ATTESTED",
          "the caller presented no verified RA-TLS evidence",
        );
      const subject = subjectOf(peer);
      const { accepted } = appraiseAgainstSet(peer.verified, options.policies());
      if (accepted === undefined || !(accepted.keys[keyId] ?? []).includes(op)) {
        await options.store.appendAudit({
          action: `kms.${op}`,
          outcome: "denied",
          subject,
          detail: { keyId, claims: claimsRecord(peer.verified) },
        });
        throw new KeywardError("ERR_SERVICE_DENIED", `operation ${op} on this key is not granted`);
      }
      const r = await run();
      await options.store.appendAudit({
        action: `kms.${op}`,
        outcome: "allowed",
        subject,
        policyId: accepted.id,
        detail: { keyId, claims: claimsRecord(peer.verified) },
      });
      return r;
    } catch (e) {
      throw toConnectError(e);
    }
  }
  type Peer = RaTlsVerdict | undefined;
  return {
    getPublicKey: (r: { keyId: string }, peer: Peer) =>
      guarded(peer, r.keyId, "getPublicKey", () => ops.getPublicKey(r.keyId)),
    encrypt: (r: { keyId: string; plaintext: Uint8Array; aad: Uint8Array }, peer: Peer) =>
      guarded(peer, r.keyId, "encrypt", async () => ({
        ciphertext: await ops.encrypt(r.keyId, r.plaintext, r.aad),
      })),
    decrypt: (r: { keyId: string; ciphertext: Uint8Array; aad: Uint8Array }, peer: Peer) =>
      guarded(peer, r.keyId, "decrypt", async () => ({
        plaintext: await ops.decrypt(r.keyId, r.ciphertext, r.aad),
      })),
    sign: (r: { keyId: string; message: Uint8Array }, peer: Peer) =>
      guarded(peer, r.keyId, "sign", () => ops.sign(r.keyId, r.message)),
    verify: (r: { keyId: string; message: Uint8Array; signature: Uint8Array; version: number }, peer: Peer) =>
      guarded(peer, r.keyId, "verify", async () => ({
        valid: await ops.verify(r.keyId, r.message, r.signature, r.version === 0 ? undefined : r.version),
      })),
    wrap: (r: { keyId: string; keyMaterial: Uint8Array }, peer: Peer) =>
      guarded(peer, r.keyId, "wrap", async () => ({ wrapped: await ops.wrap(r.keyId, r.keyMaterial) })),
    unwrap: (r: { keyId: string; wrapped: Uint8Array }, peer: Peer) =>
      guarded(peer, r.keyId, "unwrap", async () => ({ keyMaterial: await ops.unwrap(r.keyId, r.wrapped) })),
  };
}

/** Registers KeyManagementService with Connect (the caller from the handler context). */
export function registerKms(router: ConnectRouter, impl: ReturnType<typeof kmsImplementation>): void {
  const peer = (ctx: HandlerContext) => ctx.values.get(peerIdentityKey);
  router.service(KeyManagementService, {
    getPublicKey: (r, ctx) => impl.getPublicKey(r, peer(ctx)),
    encrypt: (r, ctx) => impl.encrypt(r, peer(ctx)),
    decrypt: (r, ctx) => impl.decrypt(r, peer(ctx)),
    sign: (r, ctx) => impl.sign(r, peer(ctx)),
    verify: (r, ctx) => impl.verify(r, peer(ctx)),
    wrap: (r, ctx) => impl.wrap(r, peer(ctx)),
    unwrap: (r, ctx) => impl.unwrap(r, peer(ctx)),
  });
}
