/**
 * The service's configuration: the only place in the server that reads the environment.
 * Precedence: command-line flag, then environment variable, then default.
 *
 * | flag               | environment               | default                          |
 * |--------------------|---------------------------|----------------------------------|
 * | --listen HOST:PORT | KEYWARD_LISTEN            | 127.0.0.1:7443                   |
 * | --database-url URL | KEYWARD_DATABASE_URL      | (SQLite at DATA_DIR/keyward.db)  |
 * | --db-schema NAME   | KEYWARD_DB_SCHEMA         | (the connection's search_path)   |
 * | --policy-dir DIR   | KEYWARD_POLICY_DIR        | DATA_DIR/policies                |
 * | --master-key-file  | KEYWARD_MASTER_KEY_FILE   | DATA_DIR/master.key              |
 * | --simulation       | KEYWARD_SIMULATION=1      | off                              |
 * | --vault-addr URL   | KEYWARD_VAULT_ADDR        | (vault: grants refused)          |
 * | --ops-listen H:P   | KEYWARD_OPS_LISTEN        | (no health/metrics listener)     |
 *
 * @module
 */
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";

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
}

export interface ConfigFlags {
  readonly listen?: string;
  readonly databaseUrl?: string;
  readonly dbSchema?: string;
  readonly policyDir?: string;
  readonly masterKeyFile?: string;
  readonly simulation?: boolean;
  readonly vaultAddr?: string;
  readonly opsListen?: string;
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
  const url = flags.databaseUrl ?? env.KEYWARD_DATABASE_URL;
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
  return {
    ...(ops === undefined ? {} : { opsListen: { host: ops[1] ?? "", port: Number(ops[2]) } }),
    dataDir,
    host: (m[1] ?? "").replace(/^\[|\]$/g, ""),
    port,
    database:
      url === undefined
        ? { engine: "sqlite" }
        : { engine: "postgres", url, ...(schema === undefined ? {} : { schema }) },
    policyDir: flags.policyDir ?? env.KEYWARD_POLICY_DIR ?? join(dataDir, "policies"),
    masterKeyFile: flags.masterKeyFile ?? env.KEYWARD_MASTER_KEY_FILE ?? join(dataDir, "master.key"),
    simulation: flags.simulation === true || env.KEYWARD_SIMULATION === "1",
    ...((flags.vaultAddr ?? env.KEYWARD_VAULT_ADDR) === undefined
      ? {}
      : { vaultAddr: (flags.vaultAddr ?? env.KEYWARD_VAULT_ADDR) as string }),
  };
}
