/**
 * The service's flags, shared by `serve` and the commands that open its store locally, turned into
 * a {@link ServiceConfig} (flags win over KEYWARD_* variables, which win over defaults).
 *
 * @module
 */
import type { ServiceConfig } from "@keyward/server/service";
import { dataDir } from "./config.ts";

/** Flags naming where the service's data lives. */
export const STORE_FLAGS = {
  "data-dir": { type: "string" },
  "database-url": { type: "string" },
  "db-schema": { type: "string" },
  "master-key-file": { type: "string" },
  "policy-dir": { type: "string" },
  simulation: { type: "boolean" },
  "pccs-url": { type: "string" },
} as const;

/** Every flag of `keyward serve`. */
export const SERVE_FLAGS = {
  ...STORE_FLAGS,
  listen: { type: "string" },
  "vault-addr": { type: "string" },
  "ops-listen": { type: "string" },
  "admin-listen": { type: "string" },
  "challenge-listen": { type: "string" },
  attester: { type: "string" },
} as const;

type Values = Partial<Record<keyof typeof SERVE_FLAGS, string | boolean | undefined>>;

/** The configuration the given flag values describe. */
export async function serviceConfigFrom(values: Values): Promise<ServiceConfig> {
  const { loadServiceConfig } = await import("@keyward/server/service");
  const s = (k: keyof typeof SERVE_FLAGS) =>
    typeof values[k] === "string" ? (values[k] as string) : undefined;
  const pairs = {
    listen: s("listen"),
    databaseUrl: s("database-url"),
    dbSchema: s("db-schema"),
    policyDir: s("policy-dir"),
    masterKeyFile: s("master-key-file"),
    vaultAddr: s("vault-addr"),
    opsListen: s("ops-listen"),
    adminListen: s("admin-listen"),
    challengeListen: s("challenge-listen"),
    pccsUrl: s("pccs-url"),
    attester: s("attester"),
  };
  return loadServiceConfig(dataDir(s("data-dir")), {
    ...Object.fromEntries(Object.entries(pairs).filter(([, v]) => v !== undefined)),
    ...(values.simulation === true ? { simulation: true } : {}),
  });
}
