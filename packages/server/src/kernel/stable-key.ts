/**
 * The service's stable key: 32 random bytes, created once, stored sealed by the master key (table
 * `sealed_values`, row `stable-key`) and re-sealed by master-key rotation. Features derive their
 * long-lived keys from it (HKDF-SHA-256 with their own info), never from the master key itself,
 * so that a rotation of the master key does not change them: a password pepper derived from the
 * master key would make every stored password hash unverifiable after a rotation.
 *
 * @module
 */
import { hkdfSync, randomBytes } from "node:crypto";
import type { Sql, SqlRunner } from "../store/sql.ts";
import { gcmOpen, gcmSeal } from "./envelope.ts";

const NAME = "stable-key";
const aad = (name: string) => new TextEncoder().encode(`keyward-sealed-value-v1\u0000${name}`);

/**
 * The stable key, read from the store or created there (replicas starting together agree: the
 * first insert wins, every replica reads that row back).
 * @throws ERR_SERVICE_SECRET_INTEGRITY when the row does not open under `masterKey`
 */
export async function loadOrCreateStableKey(sql: Sql, masterKey: Uint8Array): Promise<Uint8Array> {
  const fresh = randomBytes(32);
  try {
    await sql.run("INSERT INTO sealed_values (name, sealed) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [
      NAME,
      gcmSeal(masterKey, fresh, aad(NAME)),
    ]);
  } finally {
    fresh.fill(0);
  }
  const row = await sql.get("SELECT sealed FROM sealed_values WHERE name = ?", [NAME]);
  return new Uint8Array(gcmOpen(masterKey, new Uint8Array(row?.sealed as Uint8Array), aad(NAME)));
}

/**
 * A 32-byte key for `info` (e.g. "keyward licensing password pepper v1") derived from the stable
 * key by HKDF-SHA-256 (RFC 5869).
 */
export function deriveStableKey(stableKey: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", stableKey, new Uint8Array(0), info, 32));
}

/**
 * Re-seals every row of `sealed_values` under `newKey`, inside the rotation's transaction `tx`;
 * returns how many.
 * @throws ERR_SERVICE_SECRET_INTEGRITY when a row does not open under `oldKey`
 */
export async function resealStableValues(
  tx: SqlRunner,
  oldKey: Uint8Array,
  newKey: Uint8Array,
): Promise<number> {
  const rows = await tx.all("SELECT name, sealed FROM sealed_values ORDER BY name");
  for (const r of rows) {
    const name = String(r.name);
    const value = gcmOpen(oldKey, new Uint8Array(r.sealed as Uint8Array), aad(name));
    try {
      await tx.run("UPDATE sealed_values SET sealed = ? WHERE name = ?", [
        gcmSeal(newKey, value, aad(name)),
        name,
      ]);
    } finally {
      value.fill(0);
    }
  }
  return rows.length;
}
