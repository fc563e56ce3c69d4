/**
 * The service's configuration: the only place in the server that reads the environment.
 * Precedence: command-line flag, then environment variable, then default.
 *
 * | flag               | environment               | default                          |
 * |--------------------|---------------------------|----------------------------------|
 * | --listen HOST:PORT | KEYWARD_LISTEN            | 127.0.0.1:7443                   |
 * | --database-url URL | KEYWARD_DATABASE_URL      | (SQLite at DATA_DIR/keyward.db)  |
 * | --database-url-file| KEYWARD_DATABASE_URL_FILE | (the URL read from a file: a     |
 * |                    |                           |  mounted Secret, never argv/env) |
 * | --db-schema NAME   | KEYWARD_DB_SCHEMA         | (the connection's search_path)   |
 * | --policy-dir DIR   | KEYWARD_POLICY_DIR        | DATA_DIR/policies                |
 * | --master-key-file  | KEYWARD_MASTER_KEY_FILE   | DATA_DIR/master.key              |
 * | --simulation       | KEYWARD_SIMULATION=1      | off                              |
 * | --vault-addr URL   | KEYWARD_VAULT_ADDR        | (vault: grants refused)          |
 * | --ops-listen H:P   | KEYWARD_OPS_LISTEN        | (no health/metrics listener)     |
 * | --admin-listen H:P | KEYWARD_ADMIN_LISTEN      | 127.0.0.1:7444 (after admin init)|
 * | --challenge-listen | KEYWARD_CHALLENGE_LISTEN  | (no challenge–response listener) |
 * | --pccs-url URL     | KEYWARD_PCCS_URL          | Intel PCS (hardware mode)        |
 * | --attester NAME    | KEYWARD_ATTESTER          | auto (hardware mode)             |
 *
 * @module
 */
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { INTEL_PCS_URL } from "@keyward/channels/collateral";
import { readTextBounded } from "@keyward/platform/io";

export interface ServiceConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly database:
    | { readonly engine: "sqlite" }
    | { readonly engine: "postgres"; readonly url: string; readonly schema?: string };
  readonly policyDir: string;
  readonly masterKeyFile: string;
  readonly simulation: boolean;
  readonly vaultAddr?: string;
  /** Where /healthz, /readyz and /metrics are served (plain HTTP). */
  readonly opsListen?: { readonly host: string; readonly port: number };
  /** The Admin listener (mutual TLS with `keyward admin init` certificates). */
  readonly adminListen: { readonly host: string; readonly port: number };
  /** Whether --admin-listen/KEYWARD_ADMIN_LISTEN was given (then admin credentials are required). */
  readonly adminListenExplicit: boolean;
  /** The challenge–response listener (server-authenticated TLS), when wanted. */
  readonly challengeListen?: { readonly host: string; readonly port: number };
  /** Hardware mode: PCS or PCCS base URL for collateral. */
  readonly pccsUrl: string;
  /** Hardware mode: which attester gives the service its own evidence and sealing. */
  readonly attester: "auto" | "gramine" | "configfs-tsm";
  /** Whether --master-key-file/KEYWARD_MASTER_KEY_FILE was given (then no sealed key is used). */
  readonly masterKeyFileExplicit: boolean;
}

export interface ConfigFlags {
  readonly listen?: string;
  readonly databaseUrl?: string;
  /** A file holding the PostgreSQL URL (it carries a password: kept out of argv and environment). */
  readonly databaseUrlFile?: string;
  readonly dbSchema?: string;
  readonly policyDir?: string;
  readonly masterKeyFile?: string;
  readonly simulation?: boolean;
  readonly vaultAddr?: string;
  readonly opsListen?: string;
  readonly adminListen?: string;
  readonly challengeListen?: string;
  readonly pccsUrl?: string;
  readonly attester?: string;
}

function hostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (m === null || port > 65535)
    throw new KeywardError("ERR_SERVICE_CONFIG", `${what} must be HOST:PORT, got "${text}"`);
  return { host: (m[1] ?? "").replace(/^\[|\]$/g, ""), port };
}

/** Builds the configuration from flags and the environment (`env` defaults to `process.env`). */
export function loadServiceConfig(
  dataDir: string,
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ServiceConfig {
  const listen = flags.listen ?? env.KEYWARD_LISTEN ?? "127.0.0.1:7443";
  const m = /^(.*):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (m === null || port > 65535)
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      `--listen/KEYWARD_LISTEN must be HOST:PORT, got "${listen}"`,
    );
  const url = databaseUrl(flags, env);
  const schema = flags.dbSchema ?? env.KEYWARD_DB_SCHEMA;
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url))
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "--database-url/KEYWARD_DATABASE_URL must be a postgres:// URL",
    );
  const opsText = flags.opsListen ?? env.KEYWARD_OPS_LISTEN;
  const ops = opsText === undefined ? undefined : /^(.*):(\d{1,5})$/.exec(opsText);
  if (ops === null)
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      `--ops-listen/KEYWARD_OPS_LISTEN must be HOST:PORT, got "${opsText}"`,
    );
  const adminText = flags.adminListen ?? env.KEYWARD_ADMIN_LISTEN;
  const challengeText = flags.challengeListen ?? env.KEYWARD_CHALLENGE_LISTEN;
  const attester = flags.attester ?? env.KEYWARD_ATTESTER ?? "auto";
  if (attester !== "auto" && attester !== "gramine" && attester !== "configfs-tsm")
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      `--attester/KEYWARD_ATTESTER must be auto, gramine or configfs-tsm, got "${attester}"`,
    );
  const pccsUrl = flags.pccsUrl ?? env.KEYWARD_PCCS_URL ?? INTEL_PCS_URL;
  if (!/^https?:\/\//.test(pccsUrl))
    throw new KeywardError("ERR_SERVICE_CONFIG", "--pccs-url/KEYWARD_PCCS_URL must be an http(s) URL");
  const masterKeyFile = flags.masterKeyFile ?? env.KEYWARD_MASTER_KEY_FILE;
  return {
    ...(ops === undefined ? {} : { opsListen: { host: ops[1] ?? "", port: Number(ops[2]) } }),
    adminListen: hostPort(adminText ?? "127.0.0.1:7444", "--admin-listen/KEYWARD_ADMIN_LISTEN"),
    adminListenExplicit: adminText !== undefined,
    ...(challengeText === undefined
      ? {}
      : { challengeListen: hostPort(challengeText, "--challenge-listen/KEYWARD_CHALLENGE_LISTEN") }),
    pccsUrl,
    attester,
    masterKeyFileExplicit: masterKeyFile !== undefined,
    dataDir,
    host: (m[1] ?? "").replace(/^\[|\]$/g, ""),
    port,
    database:
      url === undefined
        ? { engine: "sqlite" }
        : { engine: "postgres", url, ...(schema === undefined ? {} : { schema }) },
    policyDir: flags.policyDir ?? env.KEYWARD_POLICY_DIR ?? join(dataDir, "policies"),
    masterKeyFile: masterKeyFile ?? join(dataDir, "master.key"),
    simulation: flags.simulation === true || env.KEYWARD_SIMULATION === "1",
    ...((flags.vaultAddr ?? env.KEYWARD_VAULT_ADDR) === undefined
      ? {}
      : { vaultAddr: (flags.vaultAddr ?? env.KEYWARD_VAULT_ADDR) as string }),
  };
}

// The PostgreSQL URL from a flag or variable, or from a file (a Kubernetes Secret mounted as a file:
// the URL carries the password, which must not sit in argv or the environment).
function databaseUrl(
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const direct = flags.databaseUrl ?? env.KEYWARD_DATABASE_URL;
  const file = flags.databaseUrlFile ?? env.KEYWARD_DATABASE_URL_FILE;
  if (file === undefined) return direct;
  if (direct !== undefined)
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "give the database URL once: --database-url/KEYWARD_DATABASE_URL or --database-url-file/KEYWARD_DATABASE_URL_FILE",
    );
  return readTextBounded(file, { kind: "key", what: "database URL file", maxBytes: 4096 }).trim();
}
