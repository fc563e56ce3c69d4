/**
 * Envelope encryption of an account's TOTP secret, like any stored secret (kernel/envelope.ts): a
 * fresh 256-bit data key per generation, AES-256-GCM, the data key wrapped by the master key. The
 * additional data names the table, the account and the generation, so a blob copied to another
 * account, another generation or the secrets table does not authenticate.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { gcmOpen, gcmSeal } from "../../kernel/envelope.ts";
import type { SqlRunner } from "../../store/sql.ts";

/** `keyward-otp-v1 ‖ 0x00 ‖ name ‖ 0x00 ‖ generation` (UTF-8). */
function aadOf(name: string, generation: number): Uint8Array {
  return new TextEncoder().encode(`keyward-otp-v1\u0000${name}\u0000${generation}`);
}

/** A sealed TOTP secret. */
export interface SealedOtpSecret {
  readonly wrappedKey: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** Seals `secret` of account `name`, generation `generation`. */
export function sealOtpSecret(
  masterKey: Uint8Array,
  name: string,
  generation: number,
  secret: Uint8Array,
): SealedOtpSecret {
  const aad = aadOf(name, generation);
  const dataKey = randomBytes(32);
  try {
    return { wrappedKey: gcmSeal(masterKey, dataKey, aad), ciphertext: gcmSeal(dataKey, secret, aad) };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Opens a sealed TOTP secret.
 * @throws ERR_SERVICE_SECRET_INTEGRITY when it does not authenticate (edited row, wrong master key)
 */
export function openOtpSecret(
  masterKey: Uint8Array,
  name: string,
  generation: number,
  s: SealedOtpSecret,
): Uint8Array {
  const aad = aadOf(name, generation);
  const dataKey = gcmOpen(masterKey, s.wrappedKey, aad);
  try {
    return gcmOpen(dataKey, s.ciphertext, aad);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Re-wraps every account's data key under `newKey` inside the rotation's transaction `tx` (the
 * secrets' ciphertexts are unchanged); returns how many accounts (Feature.reseal).
 * @throws ERR_SERVICE_SECRET_INTEGRITY when an account's key does not open under `oldKey`
 */
export async function resealOtpAccounts(
  tx: SqlRunner,
  oldKey: Uint8Array,
  newKey: Uint8Array,
): Promise<number> {
  const rows = await tx.all("SELECT name, generation, wrapped_key FROM otp_accounts ORDER BY name");
  for (const r of rows) {
    const name = String(r.name);
    const generation = Number(r.generation);
    const aad = aadOf(name, generation);
    const dataKey = gcmOpen(oldKey, new Uint8Array(r.wrapped_key as Uint8Array), aad);
    try {
      await tx.run("UPDATE otp_accounts SET wrapped_key = ? WHERE name = ? AND generation = ?", [
        gcmSeal(newKey, dataKey, aad),
        name,
        generation,
      ]);
    } finally {
      dataKey.fill(0);
    }
  }
  return rows.length;
}
