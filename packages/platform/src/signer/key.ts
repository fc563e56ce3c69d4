/**
 * An attested signing key, enclave side: generated inside, sealed to the enclave, its public key
 * bound into evidence before any untrusted code sees it.
 *
 * The sealed file holds (AES-256-GCM under the enclave's sealing key, additional data
 * "keyward signer key v1"): JSON `{ "v": 1, "purpose", "generation", "pkcs8": base64 }`. The
 * purpose and generation travel inside the seal, so a rotation cannot be made to go backwards by
 * editing a file outside.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { toHex } from "@keyward/attest/bytes";
import { sha256 } from "@keyward/attest/crypto";
import { KeywardError } from "@keyward/attest/errors";
import {
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  type KeyBundle,
  keyBindingReportData,
  OE_KEY_CLAIMS,
  oeCustomClaimsReportData,
  serializeOeCustomClaims,
} from "@keyward/attest/signer";
import type { Attester, SealPolicy } from "../attester/attester.ts";
import { sealWith, unsealWith } from "../enclave/sealing.ts";

const SEAL_AAD = new TextEncoder().encode("keyward signer key v1");

/** An unsealed signing key, inside the enclave. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /** SHA-256 of the SPKI. */
  readonly keyId: Uint8Array;
  readonly algorithm: KeyAlgorithm;
  readonly purpose: string;
  readonly generation: number;
}

/** Options of {@link generateAttestedKey}. */
export interface KeygenOptions {
  readonly purpose: string;
  /** 1 for a first key; rotation passes the old key's + 1. */
  readonly generation?: number;
  /** MRENCLAVE (default: only this exact enclave opens it) or MRSIGNER (this signer's product). */
  readonly sealPolicy?: SealPolicy;
  /** ES256 (default), ECDH-ES+A256KW (P-256) or RSA-OAEP-256 (RSA-3072): what the key is for. */
  readonly algorithm?: KeyAlgorithm;
  /**
   * How the evidence binds the key: Keyward's binding (default), or Open Enclave's custom claims
   * (Event = purpose, Public key hash = SHA-256 of the SPKI, Generation = u32 big-endian).
   */
  readonly evidenceFormat?: "keyward" | "oe-custom-claims";
  /** The collateral JSON to carry in the bundle, when the host has it. */
  readonly collateral?: string;
  readonly now?: Date;
}

/** A fresh key: its sealed private key and its bundle. */
export interface GeneratedKey {
  readonly sealed: Uint8Array;
  readonly bundle: KeyBundle;
  readonly key: SigningKey;
}

/**
 * Generates a P-256 key inside the enclave, seals it, and attests its public key: the evidence's
 * report data is `keyBindingReportData(spki, purpose, generation)`.
 * @throws ERR_INPUT_INVALID (purpose, generation), ERR_ATTESTER_UNAVAILABLE, ERR_ATTESTER_FAILED
 */
export async function generateAttestedKey(attester: Attester, options: KeygenOptions): Promise<GeneratedKey> {
  const generation = options.generation ?? 1;
  const algorithm = options.algorithm ?? "ES256";
  const { privateKey, publicKey } =
    algorithm === "RSA-OAEP-256"
      ? generateKeyPairSync("rsa", { modulusLength: 3072 })
      : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
  // Checks purpose and generation whichever format binds them.
  const keywardBinding = keyBindingReportData({ spki, purpose: options.purpose, generation });
  const g = generation;
  const customClaims =
    options.evidenceFormat === "oe-custom-claims"
      ? serializeOeCustomClaims([
          { name: OE_KEY_CLAIMS.event, value: new TextEncoder().encode(options.purpose) },
          { name: OE_KEY_CLAIMS.publicKeyHash, value: sha256(spki) },
          {
            name: OE_KEY_CLAIMS.generation,
            value: Uint8Array.of(g >>> 24, (g >>> 16) & 0xff, (g >>> 8) & 0xff, g & 0xff),
          },
        ])
      : undefined;
  const evidence = await attester.attest(
    customClaims === undefined ? keywardBinding : oeCustomClaimsReportData(customClaims),
  );
  if (evidence.kind !== "sgx-dcap" && evidence.kind !== "tdx-dcap")
    throw new KeywardError("ERR_ATTESTER_FAILED", `attested keys need DCAP evidence, not ${evidence.kind}`);
  if (customClaims !== undefined && evidence.kind !== "sgx-dcap")
    throw new KeywardError("ERR_ATTESTER_FAILED", "Open Enclave custom claims are SGX evidence");
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  const plain = new TextEncoder().encode(
    JSON.stringify({
      v: 1,
      algorithm,
      purpose: options.purpose,
      generation,
      pkcs8: pkcs8.toString("base64"),
    }),
  );
  pkcs8.fill(0);
  const sealed = await sealWith(attester, plain, {
    policy: options.sealPolicy ?? "mrenclave",
    aad: SEAL_AAD,
  });
  plain.fill(0);
  const keyId = sha256(spki);
  return {
    sealed,
    key: { privateKey, spki, keyId, algorithm, purpose: options.purpose, generation },
    bundle: {
      purpose: options.purpose,
      generation,
      algorithm,
      publicKey: spki,
      keyId,
      evidence:
        customClaims === undefined
          ? { format: evidence.kind, quote: evidence.quote }
          : { format: "oe-custom-claims", quote: evidence.quote, customClaims },
      ...(options.collateral === undefined ? {} : { collateral: options.collateral }),
      createdAt: (options.now ?? new Date()).toISOString(),
    },
  };
}

/**
 * Unseals a key sealed by {@link generateAttestedKey}, inside the enclave that sealed it (or, with
 * the MRSIGNER policy, an enclave of the same signer and product at the same or a higher SVN).
 * @throws ERR_SEALED_BLOB_INVALID (another identity, a changed byte), ERR_SEAL_SVN_TOO_HIGH
 */
export async function unsealSigningKey(attester: Attester, sealed: Uint8Array): Promise<SigningKey> {
  const plain = await unsealWith(attester, sealed, { aad: SEAL_AAD });
  let doc: { v?: unknown; algorithm?: unknown; purpose?: unknown; generation?: unknown; pkcs8?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    throw new KeywardError("ERR_SEALED_BLOB_INVALID", "sealed signing key: not the expected content");
  } finally {
    plain.fill(0);
  }
  if (
    doc.v !== 1 ||
    typeof doc.purpose !== "string" ||
    typeof doc.generation !== "number" ||
    typeof doc.pkcs8 !== "string"
  )
    throw new KeywardError("ERR_SEALED_BLOB_INVALID", "sealed signing key: not the expected content");
  const der = Buffer.from(doc.pkcs8, "base64");
  const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  der.fill(0);
  const spki = new Uint8Array(createPublicKey(privateKey).export({ format: "der", type: "spki" }));
  // Keys sealed before algorithms were recorded are ES256.
  const algorithm = KEY_ALGORITHMS.find((a) => a === (doc.algorithm ?? "ES256"));
  if (algorithm === undefined)
    throw new KeywardError("ERR_SEALED_BLOB_INVALID", "sealed signing key: an unknown algorithm");
  return {
    privateKey,
    spki,
    keyId: sha256(spki),
    algorithm,
    purpose: doc.purpose,
    generation: doc.generation,
  };
}

/** The hex key id, as bundles and registries name a key. */
export function keyIdHex(key: SigningKey): string {
  return toHex(key.keyId);
}
