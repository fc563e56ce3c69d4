/**
 * The `keyward admin …` and `keyward audit …` commands. Each acts on a running service's Admin
 * listener (`--admin HOST:PORT`) or, without it, on the service's store directly.
 */
import { ADMIN, CONFIG, DATA_DIR, STORE } from "./common.ts";
import type { CommandSpec } from "./types.ts";

const WHERE =
  "Acts on the Admin listener named by --admin (or $KEYWARD_ADMIN_ADDR) over mutual TLS, or without it on the local store.";

/** `keyward admin init`. */
export const adminInit = {
  name: "admin init",
  summary: "create the Admin listener's CA, server certificate and first operator certificate",
  synopsis: "[--data-dir DIR] [--host NAME|IP]... [--name OPERATOR] [--json]",
  description: "Private keys are written 0600, never overwritten and never printed.",
  options: {
    ...DATA_DIR,
    host: {
      type: "string",
      multiple: true,
      value: "NAME|IP",
      help: "another name of the listener (repeatable)",
    },
    name: { type: "string", value: "OPERATOR", help: "the first operator's name (default: admin)" },
  },
  json: true,
  examples: ["--host keyward.internal"],
} as const satisfies CommandSpec;

/** `keyward admin add-client`. */
export const adminAddClient = {
  name: "admin add-client",
  summary: "issue another operator's Admin client certificate with the admin CA",
  synopsis: "NAME [--data-dir DIR] [--json]",
  positionals: [{ name: "NAME", help: "the operator's name" }],
  options: { ...DATA_DIR },
  json: true,
  examples: ["alice"],
} as const satisfies CommandSpec;

/** `keyward admin put-secret`. */
export const adminPutSecret = {
  name: "admin put-secret",
  summary: "store a new version of a secret (value read from a file; envelope-encrypted)",
  synopsis: "NAME --value-file FILE [--allow-empty] [--admin HOST:PORT] [--json]",
  description: `The value is read from a file so that it never appears in the process list or a shell history; at most 1 MiB, refused before anything is sent, and never empty unless --allow-empty. ${WHERE}`,
  positionals: [{ name: "NAME", help: "the secret's name, e.g. apps/db-password" }],
  options: {
    ...ADMIN,
    "value-file": { type: "string", value: "FILE", file: "secretValue", help: "the file holding the value" },
    "allow-empty": { type: "boolean", help: "accept an empty value" },
  },
  json: true,
  examples: ["apps/db-password --value-file ./password --admin 127.0.0.1:7444"],
} as const satisfies CommandSpec;

/** `keyward admin delete-secret`. */
export const adminDeleteSecret = {
  name: "admin delete-secret",
  summary: "delete a secret (every version); later releases of it fail",
  synopsis: "NAME [--admin HOST:PORT] [--json]",
  description: `Exit 1 when there is no such secret. ${WHERE}`,
  positionals: [{ name: "NAME", help: "the secret's name" }],
  options: { ...ADMIN },
  json: true,
  examples: ["apps/db-password"],
} as const satisfies CommandSpec;

/** `keyward admin list-secrets`. */
export const adminListSecrets = {
  name: "admin list-secrets",
  summary: "list stored secrets (names and versions only)",
  synopsis: "[--admin HOST:PORT] [--json]",
  description: `With --json, one JSON object per line. ${WHERE}`,
  options: { ...ADMIN },
  json: true,
  examples: ["", "--json"],
} as const satisfies CommandSpec;

/** `keyward admin create-key`. */
export const adminCreateKey = {
  name: "admin create-key",
  summary: "create (or rotate) a KMS key inside the service's store; the key never leaves it",
  synopsis: "KEY-ID --algorithm AES-256-GCM|P-256|Ed25519|RSA-3072 [--admin HOST:PORT] [--json]",
  description: `An existing key gets a new version; old versions stay for decryption and verification. ${WHERE}`,
  positionals: [{ name: "KEY-ID", help: "the key's id" }],
  options: {
    ...ADMIN,
    algorithm: {
      type: "string",
      value: "ALG",
      choices: ["AES-256-GCM", "P-256", "Ed25519", "RSA-3072"],
      help: "AES-256-GCM, P-256, Ed25519 or RSA-3072",
    },
  },
  json: true,
  examples: ["payments --algorithm P-256"],
} as const satisfies CommandSpec;

/** `keyward admin put-policy`. */
export const adminPutPolicy = {
  name: "admin put-policy",
  summary: "validate and store a policy (JSON or YAML); errors name the path and problem",
  synopsis: "FILE [--admin HOST:PORT] [--json]",
  description: `Replicas apply a stored policy within seconds. ${WHERE}`,
  positionals: [{ name: "FILE", help: "the policy, JSON or YAML (by extension or content)", file: "policy" }],
  options: { ...ADMIN },
  json: true,
  examples: ["app.yaml"],
} as const satisfies CommandSpec;

/** `keyward admin delete-policy`. */
export const adminDeletePolicy = {
  name: "admin delete-policy",
  summary: "delete a stored policy (policy files are edited on disk instead)",
  synopsis: "ID [--admin HOST:PORT] [--json]",
  description: `Exit 1 when there is no such stored policy. ${WHERE}`,
  positionals: [{ name: "ID", help: "the policy's id" }],
  options: { ...ADMIN },
  json: true,
  examples: ["app"],
} as const satisfies CommandSpec;

/** `keyward admin list-policies`. */
export const adminListPolicies = {
  name: "admin list-policies",
  summary: "list the policies in force (files, then stored), in evaluation order",
  synopsis: "[--admin HOST:PORT] [--json]",
  description: `With --json, one JSON object per line, with the policy itself. ${WHERE}`,
  options: { ...ADMIN },
  json: true,
  examples: ["", "--json"],
} as const satisfies CommandSpec;

/** `keyward admin explain`. */
export const adminExplain = {
  name: "admin explain",
  summary: "replay a stored decision, or appraise evidence, against the policies, rule by rule",
  synopsis: "(--audit-seq N | --evidence FILE) [--policy ID] [--admin HOST:PORT] [--json]",
  description: `Exit 0 when a policy accepts, 1 when none does. Evidence is an RA-TLS certificate (PEM or DER) or a DCAP quote. ${WHERE}`,
  options: {
    ...ADMIN,
    "audit-seq": { type: "string", value: "N", help: "the audit entry whose decision to replay" },
    evidence: { type: "string", value: "FILE", file: "evidence", help: "evidence to verify and appraise" },
    policy: { type: "string", value: "ID", help: "only this policy (default: every policy in force)" },
  },
  json: true,
  examples: ["--audit-seq 42", "--evidence cert.pem --policy app"],
} as const satisfies CommandSpec;

/** `keyward admin rotate-master-key`. */
export const adminRotateMasterKey = {
  name: "admin rotate-master-key",
  summary: "re-wrap every data key under a new master key (key-file mode; service stopped)",
  synopsis: "[--data-dir DIR] [store flags] [--json]",
  description:
    "Run it with every replica stopped. The new key reaches the disk first, every data key is re-wrapped in " +
    "one transaction, then the key files are renamed (the old one kept as master.key.old).",
  options: { ...STORE },
  json: true,
  examples: [""],
} as const satisfies CommandSpec;

/** `keyward admin backup`. */
export const adminBackup = {
  name: "admin backup",
  summary: "back up the service's database while it serves (SQLite online backup, or pg_dump)",
  synopsis: "--out FILE [--config FILE] [store flags] [--json]",
  description:
    "SQLite: a consistent online copy (SQLite's backup API) while the service keeps serving; PostgreSQL: " +
    "pg_dump --format=custom of the schema. The copy is checked (integrity, audit chain), written 0600, never " +
    "over an existing file. The master key is not in it: keep it apart (docs/operations.md, Backup).",
  options: {
    ...CONFIG,
    ...STORE,
    out: { type: "string", value: "FILE", path: "file", help: "the backup file to create (must not exist)" },
  },
  json: true,
  examples: ["--out /backups/keyward-2026-11-29.db", "--config /etc/keyward/keyward.yaml --out keyward.dump"],
} as const satisfies CommandSpec;

/** `keyward admin restore`. */
export const adminRestore = {
  name: "admin restore",
  summary: "restore a backup into a fresh service, upgrade it and check every secret opens",
  synopsis: "--from FILE [--config FILE] [store flags] [--json]",
  description:
    "Into an empty data directory (SQLite) or a database without the schema (PostgreSQL, pg_restore), with " +
    "the service stopped. The store is then opened as the service opens it (migrations run forward, so a " +
    "backup of an earlier release is upgraded; a newer one is refused), the audit chain is verified and " +
    "every secret and KMS key version is opened with the master key (--master-key-file). Exit 1 when a check fails.",
  options: {
    ...CONFIG,
    ...STORE,
    from: { type: "string", value: "FILE", file: "document", readBy: "server", help: "the backup file" },
  },
  json: true,
  examples: ["--from /backups/keyward-2026-11-29.db --data-dir /var/lib/keyward-new"],
} as const satisfies CommandSpec;

/** `keyward audit read`. */
export const auditRead = {
  name: "audit read",
  summary: "print the service's audit log entries (names only; no secret values)",
  synopsis: "[--from SEQ] [--limit N | --all] [--admin HOST:PORT] [--json]",
  description: `With --json, one entry per line. When --limit stops the listing before the end of the log, stderr says so and where to go on. ${WHERE}`,
  options: {
    ...ADMIN,
    from: { type: "string", value: "SEQ", help: "the first entry (default: 1)" },
    limit: { type: "string", value: "N", help: "at most this many entries (default: 1000)" },
    all: { type: "boolean", help: "every entry to the end of the log (read in pages)" },
  },
  json: true,
  examples: ["--from 100 --limit 10 --json"],
} as const satisfies CommandSpec;

/** `keyward audit verify`. */
export const auditVerify = {
  name: "audit verify",
  summary: "verify the service's hash-chained audit log (finds edited, deleted or reordered entries)",
  synopsis: "[--expect-head HASH] [--admin HOST:PORT] [--json]",
  description: `Exit 0 intact, 1 broken. --expect-head also fails when a head recorded earlier is no longer in the chain (a chain cut short at its end still links). ${WHERE}`,
  options: {
    ...ADMIN,
    "expect-head": {
      type: "string",
      value: "HASH",
      help: "a head recorded earlier, which must be in the chain",
    },
  },
  json: true,
  examples: ["", "--expect-head 3f1c…"],
} as const satisfies CommandSpec;
