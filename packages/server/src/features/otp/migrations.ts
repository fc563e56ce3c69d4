/**
 * The OTP feature's tables (owner `otp` in `schema_versions`), portable SQL on both engines.
 *
 * - `otp_accounts`: one row per account (per task or role). The TOTP secret is envelope-encrypted
 *   (a data key per generation, wrapped by the master key; accounts.ts) and never leaves except
 *   through the one-time enrollment. `last_step` is the last accepted time step (−1: none): a code
 *   is accepted only if its step is greater, in one conditional UPDATE (RFC 6238 §5.2).
 *   `failures`/`locked_until` (unix ms) throttle consecutive failures (RFC 4226 §7.3), shared by
 *   every replica. `generation` grows with each re-enrollment (a new secret); `enrollment` is the
 *   one-time ticket, `open` until consumed.
 * - `otp_clients`: consecutive failures per client address, likewise.
 *
 * @module
 */
import type { Migration } from "../../store/migrations.ts";

/** Version 1: accounts and client throttling. */
export const OTP_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: (d) => `
CREATE TABLE otp_accounts (
  name TEXT PRIMARY KEY,
  issuer TEXT NOT NULL,
  roles TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  digits INTEGER NOT NULL,
  period INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  wrapped_key ${d.bytes} NOT NULL,
  ciphertext ${d.bytes} NOT NULL,
  last_step BIGINT NOT NULL,
  failures INTEGER NOT NULL,
  locked_until BIGINT NOT NULL,
  disabled INTEGER NOT NULL,
  enrollment TEXT NOT NULL,
  enrolled_at TEXT,
  enrolled_by TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE otp_clients (
  address TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  locked_until BIGINT NOT NULL
);`,
  },
];
