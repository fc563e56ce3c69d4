/**
 * Licences: a product, its entitlements, an expiry, the maximum number of enclaves that may run at
 * once under it, and revocation. A licence is valid while not revoked and not expired; launching
 * needs a valid one of the caller's own, and the sweeper (enclaves.ts) stops the enclaves of
 * licences that stopped being valid.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { Row, SqlRunner } from "../../store/sql.ts";
import { idOf, token, userName } from "./inputs.ts";

/** A licence as stored. */
export interface LicenceRecord {
  readonly id: string;
  readonly user: string;
  readonly product: string;
  readonly entitlements: readonly string[];
  /** Unix ms. */
  readonly expiresAt: number;
  readonly maxEnclaves: number;
  /** Unix ms; 0 while not revoked. */
  readonly revokedAt: number;
  readonly createdAt: number;
}

/** "active", "expired" or "revoked" at `nowMs`. */
export function statusOf(l: LicenceRecord, nowMs: number): "active" | "expired" | "revoked" {
  if (l.revokedAt !== 0) return "revoked";
  return l.expiresAt <= nowMs ? "expired" : "active";
}

// Row of licensing_licences → LicenceRecord: integers may come back as strings (PostgreSQL BIGINT).
function recordOf(r: Row): LicenceRecord {
  const entitlements = JSON.parse(String(r.entitlements)) as unknown;
  return {
    id: String(r.id),
    user: String(r.user_name),
    product: String(r.product),
    entitlements: Array.isArray(entitlements) ? entitlements.map(String) : [],
    expiresAt: Number(r.expires_at),
    maxEnclaves: Number(r.max_enclaves),
    revokedAt: Number(r.revoked_at),
    createdAt: Number(r.created_at),
  };
}

/** What a licence is issued with. */
export interface LicenceTerms {
  readonly product: string;
  readonly entitlements: readonly string[];
  readonly validSeconds: number;
  readonly maxEnclaves: number;
}

/**
 * Issues a licence to `user` (who must exist).
 * @throws ERR_LICENSING_INPUT_INVALID
 */
export async function issueLicence(
  sql: SqlRunner,
  user: string,
  terms: LicenceTerms,
  nowMs: number,
): Promise<LicenceRecord> {
  userName(user);
  token(terms.product, "product");
  if (terms.entitlements.length > 64)
    throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "entitlements: at most 64", {
      detail: { field: "entitlements" },
    });
  for (const e of terms.entitlements) token(e, "entitlements");
  if (
    !Number.isSafeInteger(terms.validSeconds) ||
    terms.validSeconds < 1 ||
    terms.validSeconds > 10 * 365 * 86400
  )
    throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "valid_seconds: 1 s to 10 years", {
      detail: { field: "valid_seconds" },
    });
  if (!Number.isInteger(terms.maxEnclaves) || terms.maxEnclaves < 1 || terms.maxEnclaves > 1000)
    throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "max_enclaves: 1 to 1000", {
      detail: { field: "max_enclaves" },
    });
  const exists = await sql.get("SELECT name FROM licensing_users WHERE name = ?", [user]);
  if (exists === undefined)
    throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "user: no such user", {
      detail: { field: "user" },
    });
  const record: LicenceRecord = {
    id: randomBytes(16).toString("hex"),
    user,
    product: terms.product,
    entitlements: [...terms.entitlements],
    expiresAt: nowMs + terms.validSeconds * 1000,
    maxEnclaves: terms.maxEnclaves,
    revokedAt: 0,
    createdAt: nowMs,
  };
  await sql.run(
    "INSERT INTO licensing_licences (id, user_name, product, entitlements, expires_at, max_enclaves, revoked_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
    [
      record.id,
      user,
      record.product,
      JSON.stringify(record.entitlements),
      record.expiresAt,
      record.maxEnclaves,
      nowMs,
    ],
  );
  return record;
}

/**
 * Revokes a licence (idempotent). @throws ERR_LICENSING_NO_LICENCE when there is none with this id
 */
export async function revokeLicence(sql: SqlRunner, id: string, nowMs: number): Promise<LicenceRecord> {
  idOf(id, "licence_id");
  await sql.run("UPDATE licensing_licences SET revoked_at = ? WHERE id = ? AND revoked_at = 0", [nowMs, id]);
  const row = await sql.get("SELECT * FROM licensing_licences WHERE id = ?", [id]);
  if (row === undefined) throw new KeywardError("ERR_LICENSING_NO_LICENCE", "no licence has this id");
  return recordOf(row);
}

/** The licences of `user`, newest first. */
export async function licencesOf(sql: SqlRunner, user: string): Promise<LicenceRecord[]> {
  userName(user);
  const rows = await sql.all(
    "SELECT * FROM licensing_licences WHERE user_name = ? ORDER BY created_at DESC, id",
    [user],
  );
  return rows.map(recordOf);
}

/**
 * The licence `id` of `user`, valid at `nowMs`.
 * @throws ERR_LICENSING_NO_LICENCE (not the user's, revoked or expired: one answer)
 */
export async function validLicence(
  sql: SqlRunner,
  user: string,
  id: string,
  nowMs: number,
): Promise<LicenceRecord> {
  idOf(id, "licence_id");
  const row = await sql.get("SELECT * FROM licensing_licences WHERE id = ? AND user_name = ?", [id, user]);
  const licence = row === undefined ? undefined : recordOf(row);
  if (licence === undefined || statusOf(licence, nowMs) !== "active")
    throw new KeywardError("ERR_LICENSING_NO_LICENCE", "no valid licence of yours has this id");
  return licence;
}
