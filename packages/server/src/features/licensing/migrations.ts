/**
 * The licensing feature's tables (owner `licensing` in `schema_versions`), portable SQL on both
 * engines. Times are unix milliseconds (BIGINT), read back with `Number()`.
 *
 * - `licensing_users`: a user name and its argon2id PHC string (peppered, passwords.ts); `otp_account`
 *   names the OTP account whose code a login needs ('' for none).
 * - `licensing_licences`: product, entitlements (JSON array), expiry, maximum concurrent enclaves,
 *   revocation (`revoked_at` 0 while not revoked).
 * - `licensing_families`: one per login (a refresh token family, RFC 9700 §4.14); access tokens name
 *   theirs (`sid`), so revoking a family (logout, reuse of a spent refresh token) ends them at once.
 * - `licensing_refresh_tokens`: SHA-256 of each refresh token (never the token), its family, and
 *   whether it is spent. A token is spent by one conditional UPDATE, so of two concurrent uses on any
 *   replica exactly one succeeds.
 * - `licensing_throttle`: consecutive login failures and the lockout, per user name (`u:`) and
 *   per client address (`a:`), shared by replicas.
 * - `licensing_enclaves`: each launched enclave: its launch id (single use for registration), user,
 *   licence, login family, where it listens, the certificate it registered, and when and why it
 *   stopped.
 *
 * @module
 */
import type { Migration } from "../../store/migrations.ts";

/** Version 1: users, licences, sessions, throttling, enclaves. */
export const LICENSING_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: (d) => `
CREATE TABLE licensing_users (
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  otp_account TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE licensing_licences (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  product TEXT NOT NULL,
  entitlements TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  max_enclaves INTEGER NOT NULL,
  revoked_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX licensing_licences_user ON licensing_licences (user_name);
CREATE TABLE licensing_families (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL,
  revoke_reason TEXT NOT NULL
);
CREATE TABLE licensing_refresh_tokens (
  hash TEXT PRIMARY KEY,
  family TEXT NOT NULL,
  spent INTEGER NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE licensing_throttle (
  subject TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  locked_until BIGINT NOT NULL
);
CREATE TABLE licensing_enclaves (
  id TEXT PRIMARY KEY,
  launch_id TEXT NOT NULL UNIQUE,
  user_name TEXT NOT NULL,
  licence_id TEXT NOT NULL,
  family TEXT NOT NULL,
  state TEXT NOT NULL,
  launcher_ref TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  certificate ${d.bytes},
  created_at BIGINT NOT NULL,
  stopped_at BIGINT NOT NULL,
  stop_reason TEXT NOT NULL
);
CREATE INDEX licensing_enclaves_licence ON licensing_enclaves (licence_id);`,
  },
];
