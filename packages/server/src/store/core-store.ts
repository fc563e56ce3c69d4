/**
 * The core store, written once over portable SQL for every engine: secret versions, KMS key
 * versions and stored policies, each change audited in its own transaction; request audits go
 * through the engine's appender (group commit).
 *
 * @module
 */
import type { AuditEvent } from "../audit/chain.ts";
import {
  AUDIT_HEAD_SQL,
  claimsRefsOf,
  entryFromRow,
  headOf,
  selectClaimsSql,
  withClaims,
} from "../audit/rows.ts";
import type { Store, StoredKey, StoredPolicy, StoredSecret } from "./contract.ts";
import { type AuditAppender, appendInTransaction } from "./group-commit.ts";
import type { Row, Sql, SqlRunner } from "./sql.ts";

/** The most entries one {@link Store.readAudit} call returns. */
export const MAX_AUDIT_PAGE = 10_000;

const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Uint8Array);

/** secret_versions row → StoredSecret. */
function secretOf(r: Row): StoredSecret {
  return {
    name: String(r.name),
    version: Number(r.version),
    wrappedKey: bytes(r.wrapped_key),
    ciphertext: bytes(r.ciphertext),
  };
}

/** kms_keys row → StoredKey. */
function keyOf(r: Row): StoredKey {
  return {
    keyId: String(r.key_id),
    version: Number(r.version),
    algorithm: String(r.algorithm),
    sealedMaterial: bytes(r.sealed_material),
    publicKey: bytes(r.public_key),
  };
}

/** policies row → StoredPolicy. */
function policyOf(r: Row): StoredPolicy {
  return {
    id: String(r.id),
    version: Number(r.version),
    document: String(r.document),
    createdAt: String(r.created_at),
  };
}

// The newest version of each live policy.
const LIST_POLICIES = `SELECT p.* FROM policies p
  WHERE p.deleted = 0 AND p.version = (SELECT MAX(version) FROM policies q WHERE q.id = p.id)
  ORDER BY p.id`;

/** The store over `sql`, with `appendAudit` from the engine. */
export function createStore(
  sql: Sql,
  appendAudit: AuditAppender,
  options: { readonly now: () => Date; readonly close?: () => Promise<void> },
): Store {
  const { now } = options;
  let closing: Promise<void> | undefined;
  const audited = async <T>(
    event: AuditEvent,
    f: (tx: SqlRunner) => Promise<{ result: T; detail?: AuditEvent["detail"]; policyId?: string }>,
  ) =>
    sql.transaction(async (tx) => {
      const r = await f(tx);
      const e: AuditEvent = {
        ...event,
        ...(r.policyId === undefined ? {} : { policyId: r.policyId }),
        ...(r.detail === undefined ? {} : { detail: { ...event.detail, ...r.detail } }),
      };
      await appendInTransaction(tx, [{ event: e, at: now().toISOString() }]);
      return r.result;
    });
  const nextVersion = async (tx: SqlRunner, table: string, column: string, id: string) =>
    Number((await tx.get(`SELECT MAX(version) AS v FROM ${table} WHERE ${column} = ?`, [id]))?.v ?? 0) + 1;

  return {
    engine: sql.engine,
    sql,
    putSecret: (name, seal, audit) =>
      audited(audit, async (tx) => {
        const version = await nextVersion(tx, "secret_versions", "name", name);
        const s = seal(version);
        await tx.run(
          "INSERT INTO secret_versions (name, version, wrapped_key, ciphertext, created_at) VALUES (?,?,?,?,?)",
          [name, version, s.wrappedKey, s.ciphertext, now().toISOString()],
        );
        return { result: { name, version, ...s }, detail: { name, version } };
      }),
    async getSecret(name, version) {
      const r =
        version === undefined
          ? await sql.get(
              "SELECT * FROM secret_versions WHERE name = ? AND deleted = 0 ORDER BY version DESC LIMIT 1",
              [name],
            )
          : await sql.get("SELECT * FROM secret_versions WHERE name = ? AND version = ? AND deleted = 0", [
              name,
              version,
            ]);
      return r === undefined ? undefined : secretOf(r);
    },
    deleteSecret: (name, audit) =>
      audited(audit, async (tx) => ({
        result:
          (await tx.run("UPDATE secret_versions SET deleted = 1 WHERE name = ? AND deleted = 0", [name])) > 0,
        detail: { name },
      })),
    async listSecretVersions() {
      return (await sql.all("SELECT * FROM secret_versions ORDER BY name, version")).map(secretOf);
    },
    async rewrap(rows) {
      await sql.transaction(async (tx) => {
        for (const r of rows)
          await tx.run("UPDATE secret_versions SET wrapped_key = ? WHERE name = ? AND version = ?", [
            r.wrappedKey,
            r.name,
            r.version,
          ]);
      });
    },
    putKeyVersion: (keyId, make, audit) =>
      audited(audit, async (tx) => {
        const version = await nextVersion(tx, "kms_keys", "key_id", keyId);
        const k = make(version);
        await tx.run(
          "INSERT INTO kms_keys (key_id, version, algorithm, sealed_material, public_key, created_at) VALUES (?,?,?,?,?,?)",
          [keyId, version, k.algorithm, k.sealedMaterial, k.publicKey, now().toISOString()],
        );
        return { result: { keyId, version, ...k }, detail: { keyId, version } };
      }),
    async getKeyVersion(keyId, version) {
      const r =
        version === undefined
          ? await sql.get("SELECT * FROM kms_keys WHERE key_id = ? ORDER BY version DESC LIMIT 1", [keyId])
          : await sql.get("SELECT * FROM kms_keys WHERE key_id = ? AND version = ?", [keyId, version]);
      return r === undefined ? undefined : keyOf(r);
    },
    async listKeyVersions() {
      return (await sql.all("SELECT * FROM kms_keys ORDER BY key_id, version")).map(keyOf);
    },
    rotateMasterKey: (secrets, keys, audit, policies = [], more) =>
      audited(audit, async (tx) => {
        const counts = (await more?.(tx)) ?? {};
        for (const r of policies)
          await tx.run("UPDATE policies SET document = ? WHERE id = ? AND version = ?", [
            r.document,
            r.id,
            r.version,
          ]);
        for (const r of secrets)
          await tx.run("UPDATE secret_versions SET wrapped_key = ? WHERE name = ? AND version = ?", [
            r.wrappedKey,
            r.name,
            r.version,
          ]);
        for (const r of keys)
          await tx.run("UPDATE kms_keys SET sealed_material = ? WHERE key_id = ? AND version = ?", [
            r.sealedMaterial,
            r.keyId,
            r.version,
          ]);
        return {
          result: counts,
          detail: { secrets: secrets.length, keys: keys.length, policies: policies.length, ...counts },
        };
      }),
    putPolicy: (id, documentOrSeal, audit) =>
      audited(audit, async (tx) => {
        const version = await nextVersion(tx, "policies", "id", id);
        const document = typeof documentOrSeal === "string" ? documentOrSeal : documentOrSeal(version);
        const createdAt = now().toISOString();
        await tx.run("INSERT INTO policies (id, version, document, created_at) VALUES (?,?,?,?)", [
          id,
          version,
          document,
          createdAt,
        ]);
        return { result: { id, version, document, createdAt }, policyId: id, detail: { version } };
      }),
    deletePolicy: (id, audit) =>
      audited(audit, async (tx) => ({
        result: (await tx.run("UPDATE policies SET deleted = 1 WHERE id = ? AND deleted = 0", [id])) > 0,
        policyId: id,
      })),
    async listPolicies() {
      return (await sql.all(LIST_POLICIES)).map(policyOf);
    },
    async listPolicyVersions() {
      return (await sql.all("SELECT * FROM policies ORDER BY id, version")).map(policyOf);
    },
    replacePolicyDocuments: (rows, audit) =>
      audited(audit, async (tx) => {
        let changed = 0;
        for (const r of rows)
          changed += await tx.run(
            "UPDATE policies SET document = ? WHERE id = ? AND version = ? AND document = ?",
            [r.to, r.id, r.version, r.from],
          );
        return { result: changed, detail: { policies: changed } };
      }),
    appendAudit,
    async readAudit(fromSeq = 1, limit = MAX_AUDIT_PAGE) {
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE)
        throw new RangeError(`readAudit: limit must be 1…${MAX_AUDIT_PAGE}`);
      const entries = (
        await sql.all("SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?", [fromSeq, limit])
      ).map(entryFromRow);
      const refs = claimsRefsOf(entries);
      return refs.length === 0
        ? entries
        : withClaims(entries, await sql.all(selectClaimsSql(refs.length), refs));
    },
    async auditHead() {
      return headOf(await sql.get(AUDIT_HEAD_SQL));
    },
    // Idempotent: a running service and its embedder may both close it.
    close() {
      closing ??= (async () => {
        await options.close?.();
        await sql.close();
      })();
      return closing;
    },
  };
}
