/**
 * Schema migrations, namespaced per owner: the core schema ("core": secrets, KMS keys, policies,
 * the audit log) and each feature's own tables (`Feature.migrations`). Each owner numbers its
 * migrations 1, 2, 3…; `schema_versions(feature, version)` records what ran, so two features
 * adding tables at the same time never collide on a number. Every migration runs in the serialized
 * write transaction with its record, so replicas starting together apply it once.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { Dialect, Sql } from "./sql.ts";

/** One migration: portable DDL (store/sql.ts conventions; `d.bytes` for binary columns). */
export interface Migration {
  readonly version: number;
  readonly sql: (d: Dialect) => string;
}

/** An owner's migrations, in version order. */
export interface MigrationSet {
  /** `core`, or the feature's name. */
  readonly owner: string;
  readonly migrations: readonly Migration[];
}

/** The core schema (owner `core`). Versions 1–3 are the former numbered migrations, unchanged; 4 holds audited claims records. */
export const CORE_MIGRATIONS: MigrationSet = {
  owner: "core",
  migrations: [
    {
      version: 1,
      sql: (d) => `
      CREATE TABLE secret_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        wrapped_key ${d.bytes} NOT NULL,
        ciphertext ${d.bytes} NOT NULL,
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
      version: 2,
      sql: (d) => `
      CREATE TABLE kms_keys (
        key_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        algorithm TEXT NOT NULL,
        sealed_material ${d.bytes} NOT NULL,
        public_key ${d.bytes} NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (key_id, version)
      );`,
    },
    {
      version: 3,
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
    {
      version: 4,
      // Each distinct claims record once, by its SHA-256 (audit entries reference it: claimsRef).
      sql: () => `
      CREATE TABLE audit_claims (
        hash TEXT PRIMARY KEY,
        record TEXT NOT NULL
      );`,
    },
    {
      version: 5,
      // Values sealed by the master key and re-sealed at its rotation (kernel/stable-key.ts).
      sql: (d) => `
      CREATE TABLE sealed_values (
        name TEXT PRIMARY KEY,
        sealed ${d.bytes} NOT NULL
      );`,
    },
  ],
};

const OWNER = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Applies every migration not yet recorded, owner by owner in the order given. A database made
 * before migrations were namespaced (`schema_migrations(id)`) has its numbers taken over as
 * `core` versions.
 * @throws ERR_SERVICE_CONFIG when an owner is named twice or its versions are not 1, 2, 3…;
 * ERR_SERVICE_SCHEMA_NEWER when the database holds a version of an owner beyond this release's
 */
export async function migrate(sql: Sql, sets: readonly MigrationSet[], now: () => Date): Promise<void> {
  checkSets(sets);
  await sql.transaction(async (tx) => {
    if (!(await tx.tableExists("schema_versions"))) {
      await tx.exec(
        "CREATE TABLE schema_versions (feature TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (feature, version))",
      );
      if (await tx.tableExists("schema_migrations"))
        await tx.run(
          "INSERT INTO schema_versions (feature, version, applied_at) SELECT 'core', id, applied_at FROM schema_migrations",
        );
    }
    const rows = await tx.all("SELECT feature, version FROM schema_versions");
    const applied = new Set(rows.map((r) => `${r.feature}/${Number(r.version)}`));
    refuseNewer(rows, sets);
    for (const set of sets)
      for (const m of set.migrations) {
        if (applied.has(`${set.owner}/${m.version}`)) continue;
        await tx.exec(m.sql(sql.dialect));
        await tx.run("INSERT INTO schema_versions (feature, version, applied_at) VALUES (?, ?, ?)", [
          set.owner,
          m.version,
          now().toISOString(),
        ]);
      }
  });
}

// A schema version beyond the ones this release knows was written by a newer release: its tables
// may mean something this code would misread or overwrite, so the store is not opened. (Owners
// this release does not know at all — a feature it lacks, or a tool opening only the core — are
// left alone: their tables are not touched.)
function refuseNewer(
  rows: readonly Readonly<Record<string, unknown>>[],
  sets: readonly MigrationSet[],
): void {
  for (const set of sets) {
    const known = set.migrations.length;
    const newest = Math.max(0, ...rows.filter((r) => r.feature === set.owner).map((r) => Number(r.version)));
    if (newest > known)
      throw new KeywardError(
        "ERR_SERVICE_SCHEMA_NEWER",
        `the database was written by a newer Keyward: its ${set.owner} schema is at version ${newest}, this release knows up to ${known}. Run that release (or newer), or restore a backup made by this one`,
        { detail: { owner: set.owner, version: newest, known } },
      );
  }
}

function checkSets(sets: readonly MigrationSet[]): void {
  const owners = new Set<string>();
  for (const s of sets) {
    if (!OWNER.test(s.owner) || owners.has(s.owner))
      throw new KeywardError("ERR_SERVICE_CONFIG", `migration owner "${s.owner}" is invalid or named twice`);
    owners.add(s.owner);
    s.migrations.forEach((m, i) => {
      if (m.version !== i + 1)
        throw new KeywardError(
          "ERR_SERVICE_CONFIG",
          `${s.owner}: migrations must be numbered 1, 2, 3… in order`,
        );
    });
  }
}
