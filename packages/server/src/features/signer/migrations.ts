/**
 * The device registry's table (owner `signer` in `schema_versions`), portable SQL on both engines.
 *
 * `signer_devices`: one row per device, its current key (SPKI, key id = hex SHA-256 of the SPKI,
 * generation, purpose), the enclave that made it (`subject`, `sgx:<MRENCLAVE>`) and the policy
 * that accepted it. A rotation replaces the key only when its generation is greater, in one
 * conditional UPDATE (so an old bundle replayed after a rotation, on any replica, is refused).
 * `revoked` (0/1) is final.
 *
 * @module
 */
import type { Migration } from "../../store/migrations.ts";

/** Version 1: devices. */
export const SIGNER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: (d) => `
CREATE TABLE signer_devices (
  device TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  generation BIGINT NOT NULL,
  purpose TEXT NOT NULL,
  spki ${d.bytes} NOT NULL,
  subject TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  revoked INTEGER NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT
);`,
  },
];
