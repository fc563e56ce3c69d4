/**
 * The core storage contract both engines meet (tests/store-contract runs on each): secret
 * versions, KMS key versions, stored policies and the audit chain. Every change is audited in the
 * transaction that makes it. A feature's own tables are reached through {@link Store.sql}.
 *
 * @module
 */
import type { AuditEntry, AuditEvent } from "../audit/chain.ts";
import type { ChainHead } from "../audit/rows.ts";
import type { Sql, SqlRunner } from "./sql.ts";

/** A sealed secret version as stored: its wrapped data key and its ciphertext (kernel/envelope.ts). */
export interface SealedSecret {
  readonly wrappedKey: Uint8Array;
  readonly ciphertext: Uint8Array;
}

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

/** A stored KMS key version. */
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

/** The storage contract. */
export interface Store {
  readonly engine: "sqlite" | "postgres";
  /** Portable SQL on the same database, for features' own tables (store/sql.ts). */
  readonly sql: Sql;
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
  /**
   * Master-key rotation: every secret's wrapped key, every KMS key's sealed material and every
   * policy version's sealed document, in one transaction, audited.
   */
  rotateMasterKey(
    secrets: readonly StoredSecret[],
    keys: readonly StoredKey[],
    audit: AuditEvent,
    policies?: readonly StoredPolicy[],
    /** More re-sealing in the same transaction (sealed values, features' rows); its counts are audited. */
    more?: (tx: SqlRunner) => Promise<Readonly<Record<string, number>>>,
  ): Promise<Readonly<Record<string, number>>>;
  /**
   * Stores the next version of policy `id`, audited in the same transaction: its document as
   * given, or as `seal(version)` makes it (the service seals documents: kernel/policy-sealing.ts).
   */
  putPolicy(
    id: string,
    document: string | ((version: number) => string),
    audit: AuditEvent,
  ): Promise<StoredPolicy>;
  /** Every version of every policy, deleted ones too (for sealing and rotation). */
  listPolicyVersions(): Promise<readonly StoredPolicy[]>;
  /**
   * Replaces documents in one transaction, audited: each row's only if its document is still
   * `from` (two replicas sealing the same rows at start do not overwrite each other). Resolves
   * with how many rows changed.
   */
  replacePolicyDocuments(
    rows: readonly {
      readonly id: string;
      readonly version: number;
      readonly from: string;
      readonly to: string;
    }[],
    audit: AuditEvent,
  ): Promise<number>;
  /** Marks every version of policy `id` deleted; returns whether a live one existed. */
  deletePolicy(id: string, audit: AuditEvent): Promise<boolean>;
  /** The newest version of every live stored policy, by id. */
  listPolicies(): Promise<readonly StoredPolicy[]>;
  /** Appends one event; resolves with its entry once durable (group-committed with others). */
  appendAudit(event: AuditEvent): Promise<AuditEntry>;
  /**
   * At most `limit` (1…10,000; default 10,000) entries from `fromSeq` (default 1) on, in order,
   * each with its claims record attached when it references one. A page, never the whole log:
   * stream with audit/stream.ts.
   * @throws RangeError for a limit outside 1…10,000
   */
  readAudit(fromSeq?: number, limit?: number): Promise<readonly AuditEntry[]>;
  /** The last entry's sequence number and hash (undefined for an empty log). */
  auditHead(): Promise<ChainHead | undefined>;
  close(): Promise<void>;
}
