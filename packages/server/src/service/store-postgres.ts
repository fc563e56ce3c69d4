/**
 * The PostgreSQL engine of {@link Store}. Every write runs in a transaction that first takes one
 * transaction-scoped advisory lock, so replicas sharing the database append to one audit chain
 * (the head read and the insert are serialized) and never assign one secret version twice.
 *
 * @module
 */
import pg from "pg";
import type { AuditEntry, AuditEvent } from "./audit.ts";
import { entryHash, GENESIS_HASH } from "./audit.ts";
import {
  type AuditRow,
  auditParams,
  entryFromRow,
  keyFromRow,
  LIST_POLICIES,
  MIGRATIONS,
  policyFromRow,
  type Store,
  type StoredSecret,
} from "./store.ts";

const WRITE_LOCK = 0x6b657977; // "keyw"

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** A schema to create and use (tests use a unique one per run). */
  readonly schema?: string;
  readonly poolSize?: number;
  readonly now?: () => Date;
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error("invalid schema name");
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  const now = options.now ?? (() => new Date());
  async function tx<T>(f: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      await c.query("SELECT pg_advisory_xact_lock($1)", [WRITE_LOCK]);
      const r = await f(c);
      await c.query("COMMIT");
      return r;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }
  if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await tx(async (c) => {
    await c.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    );
    const applied = new Set(
      (await c.query("SELECT id FROM schema_migrations")).rows.map((r) => Number(r.id)),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.id)) continue;
      await c.query(m.sql("BYTEA"));
      await c.query("INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)", [
        m.id,
        now().toISOString(),
      ]);
    }
  });

  async function append(c: pg.PoolClient, event: AuditEvent): Promise<AuditEntry> {
    const h = (await c.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).rows[0];
    const base = {
      ...event,
      seq: h === undefined ? 1 : Number(h.seq) + 1,
      at: now().toISOString(),
      prevHash: h === undefined ? GENESIS_HASH : String(h.hash),
    };
    const e: AuditEntry = { ...base, hash: entryHash(base) };
    await c.query(
      "INSERT INTO audit_log (seq, at, action, outcome, subject, policy_id, detail, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
      auditParams(e),
    );
    return e;
  }
  // A whole batch in one INSERT: one round trip instead of one per entry.
  async function appendMany(c: pg.PoolClient, events: readonly AuditEvent[]): Promise<AuditEntry[]> {
    const h = (await c.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).rows[0];
    let seq = h === undefined ? 0 : Number(h.seq);
    let prevHash = h === undefined ? GENESIS_HASH : String(h.hash);
    const entries: AuditEntry[] = [];
    for (const event of events) {
      const base = { ...event, seq: ++seq, at: now().toISOString(), prevHash };
      const e: AuditEntry = { ...base, hash: entryHash(base) };
      entries.push(e);
      prevHash = e.hash;
    }
    const values = entries.map(
      (_, i) => `(${Array.from({ length: 9 }, (_, j) => `$${i * 9 + j + 1}`).join(",")})`,
    );
    await c.query(
      `INSERT INTO audit_log (seq, at, action, outcome, subject, policy_id, detail, prev_hash, hash) VALUES ${values.join(",")}`,
      entries.flatMap(auditParams),
    );
    return entries;
  }
  let pending: { event: AuditEvent; resolve: (e: AuditEntry) => void; reject: (e: unknown) => void }[] = [];
  let flushing = false;
  async function flush(): Promise<void> {
    flushing = true;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
        const entries = await tx((c) =>
          appendMany(
            c,
            batch.map((p) => p.event),
          ),
        );
        for (const [i, p] of batch.entries()) p.resolve(entries[i] as AuditEntry);
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    }
    flushing = false;
  }
  const row = (r: Record<string, unknown>): StoredSecret => ({
    name: String(r.name),
    version: Number(r.version),
    wrappedKey: new Uint8Array(r.wrapped_key as Buffer),
    ciphertext: new Uint8Array(r.ciphertext as Buffer),
  });

  return {
    engine: "postgres",
    putSecret(name, seal, audit) {
      return tx(async (c) => {
        const m = (await c.query("SELECT MAX(version) AS v FROM secret_versions WHERE name = $1", [name]))
          .rows[0];
        const version = Number(m?.v ?? 0) + 1;
        const s = seal(version);
        await c.query(
          "INSERT INTO secret_versions (name, version, wrapped_key, ciphertext, created_at) VALUES ($1,$2,$3,$4,$5)",
          [name, version, Buffer.from(s.wrappedKey), Buffer.from(s.ciphertext), now().toISOString()],
        );
        await append(c, { ...audit, detail: { ...audit.detail, name, version } });
        return { name, version, ...s };
      });
    },
    async getSecret(name, version) {
      const r =
        version === undefined
          ? await pool.query(
              "SELECT * FROM secret_versions WHERE name = $1 AND deleted = 0 ORDER BY version DESC LIMIT 1",
              [name],
            )
          : await pool.query(
              "SELECT * FROM secret_versions WHERE name = $1 AND version = $2 AND deleted = 0",
              [name, version],
            );
      return r.rows[0] === undefined ? undefined : row(r.rows[0]);
    },
    deleteSecret(name, audit) {
      return tx(async (c) => {
        const r = await c.query("UPDATE secret_versions SET deleted = 1 WHERE name = $1 AND deleted = 0", [
          name,
        ]);
        await append(c, { ...audit, detail: { ...audit.detail, name } });
        return (r.rowCount ?? 0) > 0;
      });
    },
    async listSecretVersions() {
      return (await pool.query("SELECT * FROM secret_versions ORDER BY name, version")).rows.map(row);
    },
    async rewrap(rows) {
      await tx(async (c) => {
        for (const r of rows)
          await c.query("UPDATE secret_versions SET wrapped_key = $1 WHERE name = $2 AND version = $3", [
            Buffer.from(r.wrappedKey),
            r.name,
            r.version,
          ]);
      });
    },
    putKeyVersion(keyId, make, audit) {
      return tx(async (c) => {
        const m = (await c.query("SELECT MAX(version) AS v FROM kms_keys WHERE key_id = $1", [keyId]))
          .rows[0];
        const version = Number(m?.v ?? 0) + 1;
        const k = make(version);
        await c.query(
          "INSERT INTO kms_keys (key_id, version, algorithm, sealed_material, public_key, created_at) VALUES ($1,$2,$3,$4,$5,$6)",
          [
            keyId,
            version,
            k.algorithm,
            Buffer.from(k.sealedMaterial),
            Buffer.from(k.publicKey),
            now().toISOString(),
          ],
        );
        await append(c, { ...audit, detail: { ...audit.detail, keyId, version } });
        return { keyId, version, ...k };
      });
    },
    async getKeyVersion(keyId, version) {
      const r =
        version === undefined
          ? await pool.query("SELECT * FROM kms_keys WHERE key_id = $1 ORDER BY version DESC LIMIT 1", [
              keyId,
            ])
          : await pool.query("SELECT * FROM kms_keys WHERE key_id = $1 AND version = $2", [keyId, version]);
      return r.rows[0] === undefined ? undefined : keyFromRow(r.rows[0]);
    },
    async listKeyVersions() {
      return (await pool.query("SELECT * FROM kms_keys ORDER BY key_id, version")).rows.map(keyFromRow);
    },
    async rotateMasterKey(secrets, keys, audit) {
      await tx(async (c) => {
        for (const r of secrets)
          await c.query("UPDATE secret_versions SET wrapped_key = $1 WHERE name = $2 AND version = $3", [
            Buffer.from(r.wrappedKey),
            r.name,
            r.version,
          ]);
        for (const r of keys)
          await c.query("UPDATE kms_keys SET sealed_material = $1 WHERE key_id = $2 AND version = $3", [
            Buffer.from(r.sealedMaterial),
            r.keyId,
            r.version,
          ]);
        await append(c, {
          ...audit,
          detail: { ...audit.detail, secrets: secrets.length, keys: keys.length },
        });
      });
    },
    putPolicy(id, document, audit) {
      return tx(async (c) => {
        const m = (await c.query("SELECT MAX(version) AS v FROM policies WHERE id = $1", [id])).rows[0];
        const version = Number(m?.v ?? 0) + 1;
        const createdAt = now().toISOString();
        await c.query("INSERT INTO policies (id, version, document, created_at) VALUES ($1,$2,$3,$4)", [
          id,
          version,
          document,
          createdAt,
        ]);
        await append(c, { ...audit, policyId: id, detail: { ...audit.detail, version } });
        return { id, version, document, createdAt };
      });
    },
    deletePolicy(id, audit) {
      return tx(async (c) => {
        const r = await c.query("UPDATE policies SET deleted = 1 WHERE id = $1 AND deleted = 0", [id]);
        await append(c, { ...audit, policyId: id });
        return (r.rowCount ?? 0) > 0;
      });
    },
    async listPolicies() {
      return (await pool.query(LIST_POLICIES)).rows.map(policyFromRow);
    },
    appendAudit(event) {
      // Group commit: appends queued while a batch is being written go into the next transaction.
      return new Promise<AuditEntry>((resolve, reject) => {
        pending.push({ event, resolve, reject });
        if (!flushing) void flush();
      });
    },
    async readAudit(fromSeq = 1, limit = 1_000_000) {
      const r = await pool.query("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2", [
        fromSeq,
        limit,
      ]);
      return (r.rows as AuditRow[]).map(entryFromRow);
    },
    async close() {
      await pool.end();
    },
  };
}
