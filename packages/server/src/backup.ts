/**
 * Backup and restore of the service's database (`@keyward/server/backup`, used by `keyward admin
 * backup` and `keyward admin restore`).
 *
 * - SQLite: an online backup with SQLite's backup API (node:sqlite `backup`) — a consistent copy
 *   of the database while the service keeps serving and writing (WAL) — written next to its
 *   destination, checked (`PRAGMA integrity_check`, the audit chain), made 0600 and linked into
 *   place only if nothing is there (never overwritten).
 * - PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, the configured schema only),
 *   checked with `pg_restore --list`; restored with `pg_restore` into a database that does not
 *   hold that schema yet. The connection's password reaches pg_dump and pg_restore in their
 *   environment (PGPASSWORD), never in argv.
 *
 * A restore is into a fresh service only (an empty data directory or a database without the
 * schema), then the store is opened as the service opens it — migrations run forward, so a backup
 * of an earlier release is upgraded — and checked: the audit chain verifies and every secret
 * version and KMS key version opens with the master key. The master key is not in the backup: it
 * is kept (and restored) apart, so the database backup alone reveals nothing.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { DatabaseSync, backup as sqliteBackup } from "node:sqlite";
import { KeywardError } from "@keyward/attest/errors";
import { verifyAuditLog } from "./audit/stream.ts";
import { loadKeyFile, openSecret } from "./kernel/envelope.ts";
import { keyMaterial } from "./kernel/keys.ts";
import { openStore } from "./main.ts";
import type { ServiceConfig } from "./ops/config.ts";
import type { Store } from "./store/contract.ts";
import { createStore } from "./store/core-store.ts";
import { openSqliteSql } from "./store/sqlite/engine.ts";

/** What a backup holds, as checked after it was written. */
export interface BackupReport {
  readonly engine: "sqlite" | "postgres";
  /** The backup file (absolute). */
  readonly file: string;
  readonly bytes: number;
  /** SQLite: the copy's audit chain, verified. PostgreSQL: the source's, verified after the dump. */
  readonly audit: { readonly entries: number; readonly head: string | undefined };
  /** PostgreSQL: the dumped schema. */
  readonly schema?: string;
}

/** What a restore brought back, as checked. */
export interface RestoreReport {
  readonly engine: "sqlite" | "postgres";
  readonly audit: { readonly entries: number; readonly head: string | undefined };
  /** Secret versions opened with the master key (deleted ones included). */
  readonly secretVersions: number;
  /** KMS key versions opened with the master key. */
  readonly keyVersions: number;
  /** The schema versions after migrating forward, by owner. */
  readonly schemaVersions: Readonly<Record<string, number>>;
}

const fail = (message: string, cause?: unknown): never => {
  throw new KeywardError("ERR_SERVICE_BACKUP", message, cause === undefined ? {} : { cause });
};

/**
 * Backs up the configured database to `out` (a new file) while the service may be running.
 * @throws ERR_SERVICE_BACKUP (no database, `out` exists, pg_dump failed), ERR_AUDIT_* codes are not
 * thrown: a copy whose chain does not verify is refused with ERR_SERVICE_BACKUP
 */
export async function backupStore(config: ServiceConfig, out: string): Promise<BackupReport> {
  const file = resolve(out);
  if (existsSync(file)) fail(`${file} exists: a backup never overwrites a file`);
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.partial`);
  try {
    const report =
      config.database.engine === "sqlite"
        ? await sqliteBackupTo(config, tmp, file)
        : await postgresBackupTo(config.database, tmp, file);
    chmodSync(tmp, 0o600);
    // link(2) fails when the name exists: the backup appears whole, and never replaces a file.
    try {
      linkSync(tmp, file);
    } catch (e) {
      fail(`${file} could not be created (${(e as NodeJS.ErrnoException).code ?? "error"})`, e);
    }
    return { ...report, bytes: statSync(file).size };
  } finally {
    rmSync(tmp, { force: true });
  }
}

async function sqliteBackupTo(config: ServiceConfig, tmp: string, file: string): Promise<BackupReport> {
  const source = join(config.dataDir, "keyward.db");
  if (!existsSync(source)) fail(`no database at ${source}`);
  const db = new DatabaseSync(source);
  try {
    // The backup API copies pages under a read transaction, restarting when a writer changes a
    // page it copied: the result is one consistent state of the database.
    db.exec("PRAGMA busy_timeout = 5000");
    await sqliteBackup(db, tmp);
  } catch (e) {
    fail(`the SQLite backup failed: ${(e as Error).message}`, e);
  } finally {
    db.close();
  }
  const audit = await checkSqliteCopy(tmp);
  return { engine: "sqlite", file, bytes: 0, audit };
}

// The copy must be a sound database whose audit chain verifies, or it is not a backup.
async function checkSqliteCopy(path: string): Promise<BackupReport["audit"]> {
  const raw = new DatabaseSync(path);
  try {
    const rows = raw.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
    if (rows.length !== 1 || rows[0]?.integrity_check !== "ok")
      fail(`the copy fails SQLite's integrity check: ${rows.map((r) => r.integrity_check).join("; ")}`);
  } finally {
    raw.close();
  }
  const sql = openSqliteSql(path);
  const store = createStore(sql, () => Promise.reject(new Error("a backup copy is read only")), {
    now: () => new Date(),
  });
  try {
    return await verifiedAudit(store);
  } finally {
    await sql.close();
    // A backup is one file: back to a rollback journal (the WAL was checkpointed on close).
    const d = new DatabaseSync(path);
    d.exec("PRAGMA journal_mode = DELETE");
    d.close();
    for (const side of ["-wal", "-shm"]) rmSync(`${path}${side}`, { force: true });
  }
}

async function verifiedAudit(store: Store): Promise<RestoreReport["audit"]> {
  const v = await verifyAuditLog(store);
  if (!v.ok) fail(`the audit chain does not verify: ${v.problem ?? "broken"}`);
  return { entries: v.entries, head: v.head };
}

/** libpq's environment for `url` (the password never goes to argv). */
export function libpqEnvironment(url: string): Record<string, string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    return fail("the database URL is not a URL", e);
  }
  const env: Record<string, string> = {};
  if (u.hostname !== "") env.PGHOST = decodeURIComponent(u.hostname).replace(/^\[|\]$/g, "");
  if (u.port !== "") env.PGPORT = u.port;
  if (u.username !== "") env.PGUSER = decodeURIComponent(u.username);
  if (u.password !== "") env.PGPASSWORD = decodeURIComponent(u.password);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (db !== "") env.PGDATABASE = db;
  for (const [k, v] of u.searchParams) {
    if (k === "sslmode") env.PGSSLMODE = v;
    else if (k === "host") env.PGHOST = v;
    else if (k === "sslrootcert") env.PGSSLROOTCERT = v;
    else if (k === "application_name") env.PGAPPNAME = v;
  }
  return env;
}

// Runs a PostgreSQL client program with libpq's environment; resolves with its stdout.
function pgTool(program: string, args: readonly string[], url: string): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...libpqEnvironment(url) };
    const child = spawn(program, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      if (out.length < 4 << 20) out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      if (err.length < 16 << 10) err += d;
    });
    child.on("error", (e) =>
      reject(
        new KeywardError("ERR_SERVICE_BACKUP", `${program} could not be run: ${e.message}`, { cause: e }),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) resolveRun(out);
      else
        reject(
          new KeywardError(
            "ERR_SERVICE_BACKUP",
            `${program} exited ${code}: ${err.trim().split("\n").slice(-3).join(" ")}`,
          ),
        );
    });
  });
}

async function postgresBackupTo(
  database: Extract<ServiceConfig["database"], { engine: "postgres" }>,
  tmp: string,
  file: string,
): Promise<BackupReport> {
  const schema = database.schema ?? "public";
  await pgTool(
    "pg_dump",
    ["--format=custom", "--no-owner", "--no-privileges", `--schema=${schema}`, `--file=${tmp}`],
    database.url,
  );
  const toc = await pgTool("pg_restore", ["--list", tmp], database.url);
  if (!/ TABLE [^ ]+ audit_log /.test(toc)) fail(`the dump of schema ${schema} holds no audit_log table`);
  // The chain the dump was taken from, verified (the dump itself is verified when restored).
  const store = await openStore({ dataDir: "", database });
  try {
    return { engine: "postgres", file, bytes: 0, audit: await verifiedAudit(store), schema };
  } finally {
    await store.close();
  }
}

/**
 * Restores the backup at `from` into the configured (fresh) store, opens it as the service does
 * (migrating forward) and checks it with the master key (`config.masterKeyFile`).
 * @throws ERR_SERVICE_BACKUP (the target is not fresh, the backup is unreadable, the chain does
 * not verify), ERR_SERVICE_SCHEMA_NEWER, ERR_SERVICE_SECRET_INTEGRITY (a version does not open
 * with this master key), ERR_SERVICE_MASTER_KEY (the master key file)
 */
export async function restoreStore(config: ServiceConfig, from: string): Promise<RestoreReport> {
  const source = resolve(from);
  if (!existsSync(source) || !statSync(source).isFile()) fail(`${source} is not a backup file`);
  const masterKey = loadKeyFile(config.masterKeyFile);
  try {
    if (config.database.engine === "sqlite") await sqliteRestore(config, source);
    else await postgresRestore(config.database, source);
    const store = await openStore(config);
    try {
      return await checkRestored(store, masterKey);
    } finally {
      await store.close();
    }
  } finally {
    masterKey.fill(0);
  }
}

async function sqliteRestore(config: ServiceConfig, source: string): Promise<void> {
  const target = join(config.dataDir, "keyward.db");
  for (const f of ["keyward.db", "keyward.db-wal", "keyward.db-shm"])
    if (existsSync(join(config.dataDir, f)))
      fail(`${join(config.dataDir, f)} exists: restore into a fresh data directory (the service stopped)`);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  let src: DatabaseSync;
  try {
    src = new DatabaseSync(source, { readOnly: true });
    src.prepare("SELECT count(*) FROM sqlite_master").get();
  } catch (e) {
    return fail(`${source} is not a SQLite database: ${(e as Error).message}`, e);
  }
  try {
    await sqliteBackup(src, target);
    chmodSync(target, 0o600);
  } catch (e) {
    rmSync(target, { force: true });
    fail(`the restore failed: ${(e as Error).message}`, e);
  } finally {
    src.close();
  }
}

async function postgresRestore(
  database: Extract<ServiceConfig["database"], { engine: "postgres" }>,
  source: string,
): Promise<void> {
  const schema = database.schema ?? "public";
  const toc = await pgTool("pg_restore", ["--list", source], database.url);
  const dumped =
    /^\d+; \d+ \d+ SCHEMA - (\S+)/m.exec(toc)?.[1] ?? (/ TABLE public /.test(toc) ? "public" : undefined);
  if (dumped !== schema)
    fail(
      `the backup holds schema ${dumped ?? "(none)"}, the configuration names ${schema}: restore with --db-schema ${dumped ?? "NAME"}`,
    );
  const count = async (query: string) =>
    Number(
      (
        await pgTool("psql", ["--no-psqlrc", "--tuples-only", "--no-align", "--command", query], database.url)
      ).trim(),
    );
  if ((await count(`SELECT count(*) FROM information_schema.tables WHERE table_schema = '${schema}'`)) > 0)
    fail(`schema ${schema} already holds tables: restore into a fresh database or schema`);
  // An empty schema that exists already (`public` always does) is kept: the dump's CREATE SCHEMA
  // and its comment are left out of what is restored, the rest is restored into it.
  const args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"];
  const list = join(tmpdir(), `keyward-restore-${randomBytes(6).toString("hex")}.list`);
  try {
    if (
      (await count(`SELECT count(*) FROM information_schema.schemata WHERE schema_name = '${schema}'`)) > 0
    ) {
      const kept = toc
        .split("\n")
        .filter(
          (l) => !new RegExp(`^\\d+; \\d+ \\d+ (SCHEMA - ${schema}|COMMENT - SCHEMA ${schema}) `).test(l),
        );
      writeFileSync(list, `${kept.join("\n")}\n`, { mode: 0o600, flag: "wx" });
      args.push(`--use-list=${list}`);
    }
    await pgTool(
      "pg_restore",
      [...args, `--dbname=${dbnameWithoutPassword(database.url)}`, source],
      database.url,
    );
  } finally {
    rmSync(list, { force: true });
  }
}

// pg_restore needs --dbname to restore (not only to list): the connection parameters come from
// the environment, so the name alone is passed.
function dbnameWithoutPassword(url: string): string {
  return libpqEnvironment(url).PGDATABASE ?? "postgres";
}

async function checkRestored(store: Store, masterKey: Uint8Array): Promise<RestoreReport> {
  const audit = await verifiedAudit(store);
  let secretVersions = 0;
  for (const s of await store.listSecretVersions()) {
    openSecret(masterKey, s.name, s.version, s).fill(0);
    secretVersions++;
  }
  let keyVersions = 0;
  for (const k of await store.listKeyVersions()) {
    keyMaterial(masterKey, k).fill(0);
    keyVersions++;
  }
  const schemaVersions: Record<string, number> = {};
  for (const r of await store.sql.all(
    "SELECT feature, MAX(version) AS v FROM schema_versions GROUP BY feature",
  ))
    schemaVersions[String(r.feature)] = Number(r.v);
  return { engine: store.engine, audit, secretVersions, keyVersions, schemaVersions };
}
