/**
 * The service's core configuration: the options the composition root itself reads (where it
 * listens, where its data lives, how it is trusted). Features add their own options
 * (`Feature.options`); `readServiceConfig` reads the whole table once. This module and
 * options.ts are the only readers of the environment in the server.
 *
 * @module
 */
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { INTEL_PCS_URL } from "@keyward/channels/collateral";
import { readTextBounded } from "@keyward/platform/io";
import type { DatabaseConfig } from "../store/open.ts";
import {
  defineOption,
  type Option,
  type OptionInputs,
  type OptionValues,
  parsers,
  readOptions,
} from "./options.ts";

export const LISTEN = defineOption({
  key: "listen",
  flag: "listen",
  env: "KEYWARD_LISTEN",
  kind: "string",
  doc: "the service listener (mutual RA-TLS gRPC): secrets and KMS",
  defaultDoc: "127.0.0.1:7443",
  parse: parsers.hostPort,
  fallback: () => ({ host: "127.0.0.1", port: 7443 }),
});

export const DATABASE_URL = defineOption<string | undefined>({
  key: "databaseUrl",
  flag: "database-url",
  env: "KEYWARD_DATABASE_URL",
  kind: "string",
  doc: "PostgreSQL (postgres://…) shared by replicas",
  defaultDoc: "SQLite at DATA_DIR/keyward.db",
  store: true,
  parse: (t) => {
    if (!/^postgres(ql)?:\/\//.test(t)) throw new Error("must be a postgres:// URL");
    return t;
  },
  fallback: () => undefined,
});

export const DATABASE_URL_FILE = defineOption<string | undefined>({
  key: "databaseUrlFile",
  flag: "database-url-file",
  env: "KEYWARD_DATABASE_URL_FILE",
  kind: "string",
  doc: "a file holding the PostgreSQL URL (a mounted Secret: the password never in argv or the environment)",
  defaultDoc: "(none)",
  store: true,
  parse: parsers.text,
  fallback: () => undefined,
});

export const DB_SCHEMA = defineOption<string | undefined>({
  key: "dbSchema",
  flag: "db-schema",
  env: "KEYWARD_DB_SCHEMA",
  kind: "string",
  doc: "the PostgreSQL schema to create and use",
  defaultDoc: "the connection's search_path",
  store: true,
  parse: (t) => {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(t)) throw new Error("must be a lower-case identifier");
    return t;
  },
  fallback: () => undefined,
});

export const POLICY_DIR = defineOption({
  key: "policyDir",
  flag: "policy-dir",
  env: "KEYWARD_POLICY_DIR",
  kind: "string",
  doc: "policy files (*.json, *.yaml), hot-reloaded",
  defaultDoc: "DATA_DIR/policies",
  store: true,
  parse: parsers.text,
  fallback: (dataDir) => join(dataDir, "policies"),
});

export const MASTER_KEY_FILE = defineOption({
  key: "masterKeyFile",
  flag: "master-key-file",
  env: "KEYWARD_MASTER_KEY_FILE",
  kind: "string",
  doc: "the master key file (given: used even where sealing is available)",
  defaultDoc: "DATA_DIR/master.key",
  store: true,
  parse: parsers.text,
  fallback: (dataDir) => join(dataDir, "master.key"),
});

export const SIMULATION = defineOption({
  key: "simulation",
  flag: "simulation",
  env: "KEYWARD_SIMULATION",
  kind: "boolean",
  doc: "trust the local simulated platform instead of Intel's root (development)",
  defaultDoc: "off",
  store: true,
  parse: parsers.boolean,
  fallback: () => false,
});

export const OPS_LISTEN = defineOption<{ readonly host: string; readonly port: number } | undefined>({
  key: "opsListen",
  flag: "ops-listen",
  env: "KEYWARD_OPS_LISTEN",
  kind: "string",
  doc: "plain-HTTP /healthz, /readyz and /metrics",
  defaultDoc: "(none)",
  parse: parsers.hostPort,
  fallback: () => undefined,
});

export const GRPC_HEALTH_LISTEN = defineOption<{ readonly host: string; readonly port: number } | undefined>({
  key: "grpcHealthListen",
  flag: "grpc-health-listen",
  env: "KEYWARD_GRPC_HEALTH_LISTEN",
  kind: "string",
  doc: "plaintext h2c gRPC health checking (grpc.health.v1) for Kubernetes gRPC probes",
  defaultDoc: "(none)",
  parse: parsers.hostPort,
  fallback: () => undefined,
});

export const PCCS_URL = defineOption({
  key: "pccsUrl",
  flag: "pccs-url",
  env: "KEYWARD_PCCS_URL",
  kind: "string",
  doc: "hardware mode: PCS or PCCS for collateral",
  defaultDoc: "Intel PCS",
  store: true,
  parse: parsers.httpUrl,
  fallback: () => INTEL_PCS_URL,
});

export const ATTESTER = defineOption({
  key: "attester",
  flag: "attester",
  env: "KEYWARD_ATTESTER",
  kind: "string",
  doc: "hardware mode: the service's own attester",
  defaultDoc: "auto",
  parse: parsers.oneOf(["auto", "gramine", "configfs-tsm"] as const),
  fallback: () => "auto" as const,
});

export const CHALLENGE_LISTEN = defineOption<{ readonly host: string; readonly port: number } | undefined>({
  key: "challengeListen",
  flag: "challenge-listen",
  env: "KEYWARD_CHALLENGE_LISTEN",
  kind: "string",
  doc: "the challenge–response listener (one-way RA-TLS; gRPC, gRPC-Web, Connect over HTTP/2 and HTTP/1.1)",
  defaultDoc: "(none)",
  parse: parsers.hostPort,
  fallback: () => undefined,
});

export const ADMIN_LISTEN = defineOption({
  key: "adminListen",
  flag: "admin-listen",
  env: "KEYWARD_ADMIN_LISTEN",
  kind: "string",
  doc: "the Admin listener (mutual TLS, after `keyward admin init`); given: admin credentials are required",
  defaultDoc: "127.0.0.1:7444 (after admin init)",
  parse: parsers.hostPort,
  fallback: () => ({ host: "127.0.0.1", port: 7444 }),
});

/** pino's levels; `silent` writes nothing. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_LEVEL = defineOption<LogLevel>({
  key: "logLevel",
  flag: "log-level",
  env: "KEYWARD_LOG_LEVEL",
  kind: "string",
  doc: "the least severe log lines written: fatal, error, warn, info (one line per request), debug, trace, silent",
  defaultDoc: "info",
  parse: parsers.oneOf(LOG_LEVELS),
  fallback: () => "info",
});

export const SHUTDOWN_GRACE = defineOption<number>({
  key: "shutdownGrace",
  flag: "shutdown-grace",
  env: "KEYWARD_SHUTDOWN_GRACE",
  kind: "string",
  doc: "on SIGTERM: seconds in-flight calls get to finish (new ones are refused UNAVAILABLE) before the store closes (0–3600)",
  defaultDoc: "10",
  parse: (t) => {
    const n = Number(t);
    if (!/^\d+$/.test(t) || n > 3600) throw new Error("must be whole seconds from 0 to 3600");
    return n;
  },
  fallback: () => 10,
});

/** The core options, in the order `--help` lists them. */
export const CORE_OPTIONS: readonly Option<unknown>[] = [
  LISTEN,
  CHALLENGE_LISTEN,
  ADMIN_LISTEN,
  DATABASE_URL,
  DATABASE_URL_FILE,
  DB_SCHEMA,
  POLICY_DIR,
  MASTER_KEY_FILE,
  SIMULATION,
  OPS_LISTEN,
  GRPC_HEALTH_LISTEN,
  PCCS_URL,
  ATTESTER,
  LOG_LEVEL,
  SHUTDOWN_GRACE,
];

/** The configuration read at start: the core settings by name, and every option's value. */
export interface ServiceConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly database: DatabaseConfig;
  readonly policyDir: string;
  readonly masterKeyFile: string;
  /** Whether the master key file was named (then no sealed key is used). */
  readonly masterKeyFileExplicit: boolean;
  readonly simulation: boolean;
  /** Where /healthz, /readyz and /metrics are served (plain HTTP). */
  readonly opsListen?: { readonly host: string; readonly port: number };
  /** Where plaintext (h2c) gRPC health checking is served, for Kubernetes gRPC probes. */
  readonly grpcHealthListen?: { readonly host: string; readonly port: number };
  /** The challenge–response listener, when wanted. */
  readonly challengeListen?: { readonly host: string; readonly port: number };
  /** The Admin listener (it runs once `keyward admin init` made credentials). */
  readonly adminListen: { readonly host: string; readonly port: number };
  /** Whether the Admin listener's address was given (then admin credentials are required). */
  readonly adminListenExplicit: boolean;
  /** Hardware mode: PCS or PCCS base URL for collateral. */
  readonly pccsUrl: string;
  /** Hardware mode: which attester gives the service its own evidence and sealing. */
  readonly attester: "auto" | "gramine" | "configfs-tsm";
  /** The least severe log lines written. */
  readonly logLevel: LogLevel;
  /** Every option's value, the features' included (`options.get(VAULT_ADDR)`). */
  readonly options: OptionValues;
}

/**
 * Reads `table` (the core options and the features') once.
 * @throws ERR_SERVICE_CONFIG listing every problem at once
 */
export function readServiceConfig(table: readonly Option<unknown>[], inputs: OptionInputs): ServiceConfig {
  const o = readOptions(table, inputs);
  const listen = o.get(LISTEN);
  const url = databaseUrl(o);
  const schema = o.get(DB_SCHEMA);
  const ops = o.get(OPS_LISTEN);
  const challenge = o.get(CHALLENGE_LISTEN);
  const grpcHealth = o.get(GRPC_HEALTH_LISTEN);
  return {
    dataDir: inputs.dataDir,
    host: listen.host,
    port: listen.port,
    database:
      url === undefined
        ? { engine: "sqlite" }
        : { engine: "postgres", url, ...(schema === undefined ? {} : { schema }) },
    policyDir: o.get(POLICY_DIR),
    masterKeyFile: o.get(MASTER_KEY_FILE),
    masterKeyFileExplicit: o.source(MASTER_KEY_FILE) !== "default",
    simulation: o.get(SIMULATION),
    ...(ops === undefined ? {} : { opsListen: ops }),
    ...(challenge === undefined ? {} : { challengeListen: challenge }),
    ...(grpcHealth === undefined ? {} : { grpcHealthListen: grpcHealth }),
    adminListen: o.get(ADMIN_LISTEN),
    adminListenExplicit: o.source(ADMIN_LISTEN) !== "default",
    pccsUrl: o.get(PCCS_URL),
    attester: o.get(ATTESTER),
    logLevel: o.get(LOG_LEVEL),
    options: o,
  };
}

// The PostgreSQL URL from a flag or variable, or from a file (a Kubernetes Secret mounted as a file:
// the URL carries the password, which must not sit in argv or the environment).
function databaseUrl(o: OptionValues): string | undefined {
  const direct = o.get(DATABASE_URL);
  const file = o.get(DATABASE_URL_FILE);
  if (file === undefined) return direct;
  if (direct !== undefined)
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "give the database URL once: --database-url/KEYWARD_DATABASE_URL or --database-url-file/KEYWARD_DATABASE_URL_FILE",
    );
  const url = readTextBounded(file, { kind: "key", what: "database URL file", maxBytes: 4096 }).trim();
  try {
    return DATABASE_URL.parse(url);
  } catch (e) {
    // The message names the problem, never the URL (it holds the password).
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      `--database-url-file/KEYWARD_DATABASE_URL_FILE ${(e as Error).message}`,
    );
  }
}
