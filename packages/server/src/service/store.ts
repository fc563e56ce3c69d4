/**
 * Storage: one schema, numbered migrations, two engines (SQLite via `node:sqlite` in WAL mode,
 * PostgreSQL via `pg`). Secrets are stored sealed (see envelope.ts); audit entries are appended to
 * one hash chain inside the same transaction that reads the chain head, so concurrent writers never
 * fork it.
 *
 * @module
 */
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { KeywardError } from "@keyward/attest/errors";
import { type AuditEntry, type AuditEvent, entryHash, GENESIS_HASH } from "./audit.ts";
import { AuditWriter } from "./audit-writer.ts";
import type { SealedSecret } from "./envelope.ts";

/** A stored secret version. */
export interface StoredSecret extends SealedSecret {
  readonly name: string;
  readonly version: number;
}

/** A KMS key version: its private/secret material sealed by the master key, its public key in clear. */
export interface KeyMaterial {
  readonly algorithm: string;
  readonly sealedMaterial: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface StoredKey extends KeyMaterial {
  readonly keyId: string;
  readonly version: number;
}

/** A policy put through the Admin service: its JSON document, as validated when it was put. */
export interface StoredPolicy {
  readonly id: string;
  readonly version: number;
  readonly document: string;
  readonly createdAt: string;
}

/** The storage contract both engines meet (tests/store-contract runs on each). */
export interface Store {
  readonly engine: "sqlite" | "postgres";
  /** Stores the next version of `name` (1 when new) and appends `audit` in the same transaction. */
  putSecret(name: string, seal: (version: number) => SealedSecret, audit: AuditEvent): Promise<StoredSecret>;
  /** The given version, or the newest live one. */
  getSecret(name: string, version?: number): Promise<StoredSecret | undefined>;
  /** Marks every version of `name` deleted; returns whether any existed. */
  deleteSecret(name: string, audit: AuditEvent): Promise<boolean>;
  listSecretVersions(): Promise<readonly StoredSecret[]>;
  /** Replaces wrapped keys (master-key rotation), in one transaction. */
  rewrap(rows: readonly StoredSecret[]): Promise<void>;
  /** Stores the next version of KMS key `keyId` (1 when new), audited in the same transaction. */
  putKeyVersion(keyId: string, make: (version: number) => KeyMaterial, audit: AuditEvent): Promise<StoredKey>;
  /** The given version, or the newest. */
  getKeyVersion(keyId: string, version?: number): Promise<StoredKey | undefined>;
  listKeyVersions(): Promise<readonly StoredKey[]>;
  /** Master-key rotation: replaces every secret's wrapped key and every KMS key's sealed material in one transaction, audited. */
  rotateMasterKey(
    secrets: readonly StoredSecret[],
    keys: readonly StoredKey[],
    audit: AuditEvent,
  ): Promise<void>;
  /** Stores the next version of policy `id` (its JSON document), audited in the same transaction. */
  putPolicy(id: string, document: string, audit: AuditEvent): Promise<StoredPolicy>;
  /** Marks every version of policy `id` deleted; returns whether a live one existed. */
  deletePolicy(id: string, audit: AuditEvent): Promise<boolean>;
  /** The newest version of every live stored policy, by id. */
  listPolicies(): Promise<readonly StoredPolicy[]>;
  appendAudit(event: AuditEvent): Promise<AuditEntry>;
  readAudit(fromSeq?: number, limit?: number): Promise<readonly AuditEntry[]>;
  close(): Promise<void>;
}

/** Migrations by number; both engines apply the same SQL (types chosen to suit both). */
export const MIGRATIONS: readonly { readonly id: number; readonly sql: (bytes: string) => string }[] = [
  {
    id: 1,
    sql: (bytes) => `
      CREATE TABLE secret_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        wrapped_key ${bytes} NOT NULL,
        ciphertext ${bytes} NOT NULL,
        created_at TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (name, version)
      );
      CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        subject TEXT NOT NULL,
        policy_id TEXT,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );`,
  },
  {
    id: 2,
    sql: (bytes) => `
      CREATE TABLE kms_keys (
        key_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        algorithm TEXT NOT NULL,
        sealed_material ${bytes} NOT NULL,
        public_key ${bytes} NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (key_id, version)
      );`,
  },
  {
    id: 3,
    // Policies put through the Admin service (shared by replicas); policy files stay on disk.
    sql: () => `
      CREATE TABLE policies (
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        document TEXT NOT NULL,
        created_at TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (id, version)
      );`,
  },
];

export function keyFromRow(r: Record<string, unknown>): StoredKey {
  return {
    keyId: String(r.key_id),
    version: Number(r.version),
    algorithm: String(r.algorithm),
    sealedMaterial: new Uint8Array(r.sealed_material as Uint8Array),
    publicKey: new Uint8Array(r.public_key as Uint8Array),
  };
}

export interface AuditRow {
  seq: number | string;
  at: string;
  action: string;
  outcome: string;
  subject: string;
  policy_id: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export function entryFromRow(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    at: r.at,
    action: r.action,
    outcome: r.outcome as AuditEntry["outcome"],
    subject: r.subject,
    ...(r.policy_id === null ? {} : { policyId: r.policy_id }),
    ...(r.detail === null ? {} : { detail: JSON.parse(r.detail) }),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function nextEntry(
  head: { seq: number; hash: string } | undefined,
  event: AuditEvent,
  now: Date,
): AuditEntry {
  const base = {
    ...event,
    seq: (head?.seq ?? 0) + 1,
    at: now.toISOString(),
    prevHash: head?.hash ?? GENESIS_HASH,
  };
  return { ...base, hash: entryHash(base) };
}

/** The audit_log row of an entry, in column order (both engines). */
export function auditParams(e: AuditEntry): (string | number | null)[] {
  return [
    e.seq,
    e.at,
    e.action,
    e.outcome,
    e.subject,
    e.policyId ?? null,
    e.detail === undefined ? null : JSON.stringify(e.detail),
    e.prevHash,
    e.hash,
  ];
}

/** The newest version of each live policy (both engines). */
export const LIST_POLICIES = `SELECT p.* FROM policies p
  WHERE p.deleted = 0 AND p.version = (SELECT MAX(version) FROM policies q WHERE q.id = p.id)
  ORDER BY p.id`;

export function policyFromRow(r: Record<string, unknown>): StoredPolicy {
  return {
    id: String(r.id),
    version: Number(r.version),
    document: String(r.document),
    createdAt: String(r.created_at),
  };
}

export const INSERT_AUDIT_SQLITE =
  "INSERT INTO audit_log (seq, at, action, outcome, subject, policy_id, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  readonly path?: string;
  readonly now?: () => Date;
  /**
   * Where audit appends are committed: on a writer thread (default; the caller's thread never waits
   * on fsync) or inline on the caller's thread (group-committed once per event-loop turn).
   */
  readonly auditWriter?: "thread" | "inline";
}

/**
 * SQLite in WAL mode at `<dataDir>/keyward.db` (or `path`). Reads and rare writes run on this
 * thread's connection; the audit appends of requests go to a writer thread. Both take SQLite's
 * write lock (`BEGIN IMMEDIATE`), so the chain has one order.
 */
export function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): Store {
  const path = options.path ?? join(dataDir, "keyward.db");
  const db = new DatabaseSync(path);
  const now = options.now ?? (() => new Date());
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  const applied = new Set(
    (db.prepare("SELECT id FROM schema_migrations").all() as { id: number }[]).map((r) => Number(r.id)),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.id)) continue;
    tx(() => {
      db.exec(m.sql("BLOB"));
      db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)").run(
        m.id,
        now().toISOString(),
      );
    });
  }
  // Prepared once per SQL text: preparing on every request cost more than the query itself.
  const prepared = new Map<string, StatementSync>();
  const stmt = (sql: string): StatementSync => {
    let s = prepared.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      prepared.set(sql, s);
    }
    return s;
  };
  const headStmt = stmt("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  const insertAudit = stmt(INSERT_AUDIT_SQLITE);

  function tx<T>(f: () => T): T {
    db.exec("BEGIN IMMEDIATE");
    try {
      const r = f();
      db.exec("COMMIT");
      return r;
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }
  function append(event: AuditEvent): AuditEntry {
    const h = headStmt.get() as { seq: number; hash: string } | undefined;
    const e = nextEntry(h === undefined ? undefined : { seq: Number(h.seq), hash: h.hash }, event, now());
    insertAudit.run(...auditParams(e));
    return e;
  }
  const writer = options.auditWriter === "inline" ? undefined : new AuditWriter(path);
  let pending: { event: AuditEvent; resolve: (e: AuditEntry) => void; reject: (e: unknown) => void }[] = [];
  function flush() {
    const batch = pending;
    pending = [];
    let entries: AuditEntry[];
    try {
      entries = tx(() => batch.map((p) => append(p.event)));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    for (const [i, p] of batch.entries()) p.resolve(entries[i] as AuditEntry);
  }
  const row = (r: Record<string, unknown>): StoredSecret => ({
    name: String(r.name),
    version: Number(r.version),
    wrappedKey: new Uint8Array(r.wrapped_key as Uint8Array),
    ciphertext: new Uint8Array(r.ciphertext as Uint8Array),
  });

  return {
    engine: "sqlite",
    async putSecret(name, seal, audit) {
      return tx(() => {
        const m = stmt("SELECT MAX(version) AS v FROM secret_versions WHERE name = ?").get(name) as {
          v: number | null;
        };
        const version = Number(m.v ?? 0) + 1;
        const s = seal(version);
        stmt(
          "INSERT INTO secret_versions (name, version, wrapped_key, ciphertext, created_at) VALUES (?,?,?,?,?)",
        ).run(name, version, s.wrappedKey, s.ciphertext, now().toISOString());
        append({ ...audit, detail: { ...audit.detail, name, version } });
        return { name, version, ...s };
      });
    },
    async getSecret(name, version) {
      const r =
        version === undefined
          ? stmt(
              "SELECT * FROM secret_versions WHERE name = ? AND deleted = 0 ORDER BY version DESC LIMIT 1",
            ).get(name)
          : stmt("SELECT * FROM secret_versions WHERE name = ? AND version = ? AND deleted = 0").get(
              name,
              version,
            );
      return r === undefined ? undefined : row(r as Record<string, unknown>);
    },
    async deleteSecret(name, audit) {
      return tx(() => {
        const r = stmt("UPDATE secret_versions SET deleted = 1 WHERE name = ? AND deleted = 0").run(name);
        append({ ...audit, detail: { ...audit.detail, name } });
        return Number(r.changes) > 0;
      });
    },
    async listSecretVersions() {
      return (
        stmt("SELECT * FROM secret_versions ORDER BY name, version").all() as Record<string, unknown>[]
      ).map(row);
    },
    async rewrap(rows) {
      tx(() => {
        const u = stmt("UPDATE secret_versions SET wrapped_key = ? WHERE name = ? AND version = ?");
        for (const r of rows) u.run(r.wrappedKey, r.name, r.version);
      });
    },
    async putKeyVersion(keyId, make, audit) {
      return tx(() => {
        const m = stmt("SELECT MAX(version) AS v FROM kms_keys WHERE key_id = ?").get(keyId) as {
          v: number | null;
        };
        const version = Number(m.v ?? 0) + 1;
        const k = make(version);
        stmt(
          "INSERT INTO kms_keys (key_id, version, algorithm, sealed_material, public_key, created_at) VALUES (?,?,?,?,?,?)",
        ).run(keyId, version, k.algorithm, k.sealedMaterial, k.publicKey, now().toISOString());
        append({ ...audit, detail: { ...audit.detail, keyId, version } });
        return { keyId, version, ...k };
      });
    },
    async getKeyVersion(keyId, version) {
      const r =
        version === undefined
          ? stmt("SELECT * FROM kms_keys WHERE key_id = ? ORDER BY version DESC LIMIT 1").get(keyId)
          : stmt("SELECT * FROM kms_keys WHERE key_id = ? AND version = ?").get(keyId, version);
      return r === undefined ? undefined : keyFromRow(r as Record<string, unknown>);
    },
    async listKeyVersions() {
      return (stmt("SELECT * FROM kms_keys ORDER BY key_id, version").all() as Record<string, unknown>[]).map(
        keyFromRow,
      );
    },
    async rotateMasterKey(secrets, keys, audit) {
      tx(() => {
        const u = stmt("UPDATE secret_versions SET wrapped_key = ? WHERE name = ? AND version = ?");
        for (const r of secrets) u.run(r.wrappedKey, r.name, r.version);
        const k = stmt("UPDATE kms_keys SET sealed_material = ? WHERE key_id = ? AND version = ?");
        for (const r of keys) k.run(r.sealedMaterial, r.keyId, r.version);
        append({ ...audit, detail: { ...audit.detail, secrets: secrets.length, keys: keys.length } });
      });
    },
    async putPolicy(id, document, audit) {
      return tx(() => {
        const m = stmt("SELECT MAX(version) AS v FROM policies WHERE id = ?").get(id) as { v: number | null };
        const version = Number(m.v ?? 0) + 1;
        const createdAt = now().toISOString();
        stmt("INSERT INTO policies (id, version, document, created_at) VALUES (?,?,?,?)").run(
          id,
          version,
          document,
          createdAt,
        );
        append({ ...audit, policyId: id, detail: { ...audit.detail, version } });
        return { id, version, document, createdAt };
      });
    },
    async deletePolicy(id, audit) {
      return tx(() => {
        const r = stmt("UPDATE policies SET deleted = 1 WHERE id = ? AND deleted = 0").run(id);
        append({ ...audit, policyId: id });
        return Number(r.changes) > 0;
      });
    },
    async listPolicies() {
      return (stmt(LIST_POLICIES).all() as Record<string, unknown>[]).map(policyFromRow);
    },
    appendAudit(event) {
      if (writer !== undefined) return writer.append(event, now().toISOString());
      // Group commit: appends queued in the same turn share one transaction (one fsync); each
      // caller resolves only after that transaction committed.
      return new Promise<AuditEntry>((resolve, reject) => {
        pending.push({ event, resolve, reject });
        if (pending.length === 1) setImmediate(flush);
      });
    },
    async readAudit(fromSeq = 1, limit = 1_000_000) {
      return (
        stmt("SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?").all(
          fromSeq,
          limit,
        ) as unknown as AuditRow[]
      ).map(entryFromRow);
    },
    async close() {
      await writer?.close();
      db.close();
    },
  };
}

/** Checks that a name is safe to store (the policy layer limits what is granted). */
export function checkSecretName(name: string): void {
  if (!/^[A-Za-z0-9_.\-/]{1,256}$/.test(name))
    throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "secret name must be 1-256 of [A-Za-z0-9_.-/]");
}
