/**
 * TPM2_MakeCredential in software (TPM 2.0 Part 1 §24 "Credential Protection"; Part 1 §11.4.9
 * KDFa, §11.4.10.3 KDFe): a secret that only the TPM holding a given EK can recover, and only
 * while it holds an object with a given Name. This is how a verifier comes to trust an AK
 * without trusting whoever hands it over.
 *
 * @module
 */
import {
  constants,
  createCipheriv,
  createHash,
  createHmac,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { concatBytes } from "../bytes/equal.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { pad } from "./tpm-keys.ts";

type Hash = "sha256" | "sha384" | "sha512";

/** The EK facts MakeCredential needs. */
export interface CredentialKey {
  readonly type: "rsa" | "ecc";
  readonly key: KeyObject;
  readonly nameAlg: Hash;
  /** AES key size of the EK's symmetric definition (128 in the TCG low-range templates). */
  readonly symmetricBits: number;
  /** ECC only: the coordinate size of the curve (32 for P-256). */
  readonly coordinateSize?: number;
}

/** The two buffers TPM2_ActivateCredential takes, each a whole TPM2B (size included). */
export interface Credential {
  readonly credentialBlob: Uint8Array;
  readonly encryptedSecret: Uint8Array;
}

/**
 * MakeCredential(EK, secret, Name(object)).
 * @throws ERR_KEY_INVALID for an EK type it cannot use
 */
export function makeCredential(ek: CredentialKey, secret: Uint8Array, objectName: Uint8Array): Credential {
  const hashBytes = createHash(ek.nameAlg).digest().byteLength;
  if (secret.byteLength > hashBytes)
    throw new KeywardError("ERR_INPUT_INVALID", `credential secret longer than ${hashBytes} bytes`);
  let seed: Uint8Array;
  let encryptedSecret: Uint8Array;
  if (ek.type === "rsa") {
    seed = new Uint8Array(randomBytes(hashBytes));
    const label = Buffer.from("IDENTITY\0", "latin1");
    encryptedSecret = new Uint8Array(
      publicEncrypt(
        { key: ek.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: ek.nameAlg, oaepLabel: label },
        seed,
      ),
    );
  } else {
    const size = ek.coordinateSize ?? 32;
    const curve = ek.key.asymmetricKeyDetails?.namedCurve;
    if (curve === undefined)
      throw new KeywardError("ERR_KEY_INVALID", "MakeCredential: the ECC EK has no named curve");
    const ephemeral = generateKeyPairSync("ec", { namedCurve: curve });
    const z = pad(
      new Uint8Array(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: ek.key })),
      size,
    );
    const e = ephemeral.publicKey.export({ format: "jwk" });
    const k = ek.key.export({ format: "jwk" });
    const ex = pad(new Uint8Array(Buffer.from(e.x ?? "", "base64url")), size);
    const ey = pad(new Uint8Array(Buffer.from(e.y ?? "", "base64url")), size);
    const kx = pad(new Uint8Array(Buffer.from(k.x ?? "", "base64url")), size);
    seed = kdfe(ek.nameAlg, z, "IDENTITY", ex, kx, hashBytes * 8);
    encryptedSecret = concatBytes(tpm2b(ex), tpm2b(ey)); // TPMS_ECC_POINT of the ephemeral key
  }
  return finish(ek, secret, objectName, seed, tpm2b(encryptedSecret));
}

function finish(
  ek: CredentialKey,
  secret: Uint8Array,
  objectName: Uint8Array,
  seed: Uint8Array,
  encryptedSecret: Uint8Array,
): Credential {
  const hashBytes = createHash(ek.nameAlg).digest().byteLength;
  const symKey = kdfa(ek.nameAlg, seed, "STORAGE", objectName, new Uint8Array(), ek.symmetricBits);
  const cipher = createCipheriv(`aes-${ek.symmetricBits}-cfb`, symKey, Buffer.alloc(16));
  const encIdentity = concatBytes(
    new Uint8Array(cipher.update(tpm2b(secret))),
    new Uint8Array(cipher.final()),
  );
  const hmacKey = kdfa(ek.nameAlg, seed, "INTEGRITY", new Uint8Array(), new Uint8Array(), hashBytes * 8);
  const outerHmac = new Uint8Array(
    createHmac(ek.nameAlg, hmacKey).update(encIdentity).update(objectName).digest(),
  );
  return { credentialBlob: tpm2b(concatBytes(tpm2b(outerHmac), encIdentity)), encryptedSecret };
}

/** KDFa (SP 800-108 counter mode with HMAC), as TPM 2.0 Part 1 §11.4.9.2 defines it. */
export function kdfa(
  hash: Hash,
  key: Uint8Array,
  label: string,
  contextU: Uint8Array,
  contextV: Uint8Array,
  bits: number,
): Uint8Array {
  const out: Uint8Array[] = [];
  let have = 0;
  for (let i = 1; have < bits / 8; i++) {
    const block = createHmac(hash, key)
      .update(u32(i))
      .update(labelBytes(label))
      .update(contextU)
      .update(contextV)
      .update(u32(bits))
      .digest();
    out.push(new Uint8Array(block));
    have += block.byteLength;
  }
  return concatBytes(...out).subarray(0, bits / 8);
}

/** KDFe (SP 800-56A concatenation KDF), as TPM 2.0 Part 1 §11.4.10.3 defines it. */
export function kdfe(
  hash: Hash,
  z: Uint8Array,
  label: string,
  partyU: Uint8Array,
  partyV: Uint8Array,
  bits: number,
): Uint8Array {
  const out: Uint8Array[] = [];
  let have = 0;
  for (let i = 1; have < bits / 8; i++) {
    const block = createHash(hash)
      .update(u32(i))
      .update(z)
      .update(labelBytes(label))
      .update(partyU)
      .update(partyV)
      .digest();
    out.push(new Uint8Array(block));
    have += block.byteLength;
  }
  return concatBytes(...out).subarray(0, bits / 8);
}

// Labels are NUL-terminated strings; the terminator is part of the KDF input.
function labelBytes(label: string): Uint8Array {
  return new TextEncoder().encode(label.endsWith("\0") ? label : `${label}\0`);
}

function u32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function tpm2b(b: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(b.byteLength >> 8, b.byteLength & 0xff), b);
}
