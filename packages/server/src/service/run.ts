/**
 * Wires a configured service: store (SQLite or PostgreSQL), master key, hot-reloaded policies,
 * trust, logger. Used by `keyward serve`.
 *
 * @module
 */
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { loadSimPlatform } from "@keyward/platform/sim";
import pino from "pino";
import type { ServiceConfig } from "../config.ts";
import { loadOrCreateKeyFile } from "./envelope.ts";
import { Metrics, startOpsServer } from "./metrics.ts";
import { watchPolicyDir } from "./policies.ts";
import { type RunningService, startKeywardService } from "./service.ts";
import { openSqliteStore, type Store } from "./store.ts";
import { openPostgresStore } from "./store-postgres.ts";
import { simulatedServiceCredential, simulationTrust } from "./trust.ts";

/** Paths pino replaces with "[redacted]": no secret, key or token ever reaches a log line. */
export const REDACT_PATHS = [
  "value",
  "*.value",
  "secret",
  "*.secret",
  "secrets",
  "*.secrets",
  "token",
  "*.token",
  "appToken",
  "*.appToken",
  "app_token",
  "*.app_token",
  "key",
  "*.key",
  "masterKey",
  "*.masterKey",
  "password",
  "*.password",
];

/** A JSON logger (pino) with the redaction list applied. */
export function createLogger(destination?: pino.DestinationStream): pino.Logger {
  const options = { base: { service: "keyward" }, redact: { paths: REDACT_PATHS, censor: "[redacted]" } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export async function openStore(config: ServiceConfig): Promise<Store> {
  return config.database.engine === "sqlite"
    ? openSqliteStore(config.dataDir)
    : openPostgresStore({
        connectionString: config.database.url,
        ...(config.database.schema === undefined ? {} : { schema: config.database.schema }),
      });
}

export interface RunningKeyward extends RunningService {
  readonly store: Store;
  shutdown(): Promise<void>;
}

/** Starts the service as configured. Hardware mode is not wired yet: `simulation` is required. */
export async function runService(
  config: ServiceConfig,
  logger: pino.Logger = createLogger(),
): Promise<RunningKeyward> {
  if (!config.simulation)
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "only simulation mode is wired in this build: pass --simulation (trusts the simulated platform root)",
    );
  const platform = loadSimPlatform(join(config.dataDir, "sim"));
  const metrics = new Metrics();
  const store = await openStore(config);
  const masterKey = loadOrCreateKeyFile(config.masterKeyFile);
  const policies = watchPolicyDir(config.policyDir, {
    onReload: (p) => logger.info({ event: "policies.reloaded", count: p.length }, "policies reloaded"),
    onError: (e) =>
      logger.warn(
        { event: "policies.invalid", error: (e as Error).message },
        "policy reload failed; previous set kept",
      ),
  });
  logger.info({ event: "policies.loaded", count: policies.current().length }, "policies loaded");
  const service = await startKeywardService(
    {
      store,
      masterKey,
      policies: policies.current,
      verifyPeer: simulationTrust(platform),
      credential: await simulatedServiceCredential(platform),
      logger,
      ...(config.vaultAddr === undefined ? {} : { vaultAddr: config.vaultAddr }),
      metrics,
    },
    { host: config.host, port: config.port },
  );
  const ops =
    config.opsListen === undefined ? undefined : await startOpsServer(metrics, store, config.opsListen);
  logger.info(
    { event: "listening", host: config.host, port: service.port, engine: store.engine, opsPort: ops?.port },
    "keyward serving",
  );
  return {
    ...service,
    store,
    async shutdown() {
      policies.close();
      await ops?.close();
      await service.close();
      await store.close();
    },
  };
}
