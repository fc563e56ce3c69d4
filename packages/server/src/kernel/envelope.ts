/**
 * Envelope encryption: a fresh data key per secret version (AES-256-GCM, AAD = name ‖ version),
 * the data key wrapped by the master key under the same AAD. The master key comes from a key file
 * (mode 0600, created with O_EXCL) in development, or is sealed to the service's identity.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { readFileBounded } from "@keyward/platform/io";
import type { SealedSecret } from "../store/contract.ts";

/** One sealed blob: IV (12) ‖ ciphertext ‖ tag (16). */
export function gcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, body, c.getAuthTag()]);
}

/** Opens a {@link gcmSeal} blob; throws ERR_SERVICE_SECRET_INTEGRITY when it does not authenticate. */
export function gcmOpen(key: Uint8Array, blob: Uint8Array, aad: Uint8Array): Uint8Array {
  if (blob.byteLength < 28) throw new KeywardError("ERR_SERVICE_SECRET_INTEGRITY", "sealed blob too short");
  try {
    const d = createDecipheriv("aes-256-gcm", key, blob.subarray(0, 12));
    d.setAAD(aad);
    d.setAuthTag(blob.subarray(blob.byteLength - 16));
    return new Uint8Array(Buffer.concat([d.update(blob.subarray(12, blob.byteLength - 16)), d.final()]));
  } catch (cause) {
    throw new KeywardError("ERR_SERVICE_SECRET_INTEGRITY", "sealed blob does not authenticate", { cause });
  }
}

/** The additional data binding a secret version: UTF-8(name) ‖ 0x00 ‖ UTF-8(decimal version). */
export function secretAad(name: string, version: number): Uint8Array {
  return new TextEncoder().encode(`${name}\u0000${version}`);
}

/** Encrypts `value` under a fresh data key wrapped by `masterKey`. */
export function sealSecret(
  masterKey: Uint8Array,
  name: string,
  version: number,
  value: Uint8Array,
): SealedSecret {
  const aad = secretAad(name, version);
  const dataKey = randomBytes(32);
  try {
    return { wrappedKey: gcmSeal(masterKey, dataKey, aad), ciphertext: gcmSeal(dataKey, value, aad) };
  } finally {
    dataKey.fill(0);
  }
}

/** Decrypts a stored secret version. */
export function openSecret(
  masterKey: Uint8Array,
  name: string,
  version: number,
  s: SealedSecret,
): Uint8Array {
  const aad = secretAad(name, version);
  const dataKey = gcmOpen(masterKey, s.wrappedKey, aad);
  try {
    return gcmOpen(dataKey, s.ciphertext, aad);
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wraps a data key under a new master key (master-key rotation); the ciphertext is unchanged. */
export function rewrapSecret(
  oldKey: Uint8Array,
  newKey: Uint8Array,
  name: string,
  version: number,
  s: SealedSecret,
): SealedSecret {
  const aad = secretAad(name, version);
  const dataKey = gcmOpen(oldKey, s.wrappedKey, aad);
  try {
    return { wrappedKey: gcmSeal(newKey, dataKey, aad), ciphertext: s.ciphertext };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The development master key: read from `path`, or created there (32 random bytes, mode 0600,
 * O_EXCL so that two processes never create two keys).
 */
export function loadOrCreateKeyFile(path: string): Uint8Array {
  try {
    writeFileSync(path, randomBytes(32), { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST")
      throw new KeywardError("ERR_SERVICE_MASTER_KEY", "cannot create the master key file", { cause: e });
  }
  return loadKeyFile(path);
}

/**
 * The master key from an existing key file, read through the bounded reader (a regular file of at
 * most 4 KiB: a FIFO, a device or a directory is refused before a byte is read).
 * @throws ERR_SERVICE_MASTER_KEY when absent or not 32 bytes; ERR_IO when the path is not a
 * readable regular file
 */
export function loadKeyFile(path: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = readFileBounded(path, { kind: "key", what: "master key file", maxBytes: MAX_KEY_FILE_BYTES });
  } catch (cause) {
    if (isKeywardError(cause, "ERR_IO") && cause.detail?.reason === "ENOENT")
      throw new KeywardError("ERR_SERVICE_MASTER_KEY", `no master key file at ${path}`, { cause });
    throw cause;
  }
  if (key.byteLength !== 32) {
    const n = key.byteLength;
    key.fill(0);
    throw new KeywardError("ERR_SERVICE_MASTER_KEY", `master key file holds ${n} bytes, not 32`);
  }
  return key;
}

/** The most bytes read from a master key file (it holds 32). */
export const MAX_KEY_FILE_BYTES = 4096;
