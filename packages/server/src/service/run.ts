/**
 * Wires a configured service: store (SQLite or PostgreSQL), master key, hot-reloaded policies,
 * trust, logger. Used by `keyward serve`.
 *
 * @module
 */
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import type { VerifiedQuote } from "@keyward/attest/evidence";
import { collateralProviderFor } from "@keyward/channels/collateral";
import type { TlsCredential, VerifyCertificate } from "@keyward/channels/tls";
import { type Attester, openAttester } from "@keyward/platform/enclave";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { loadSimPlatform } from "@keyward/platform/sim";
import pino from "pino";
import type { ServiceConfig } from "../config.ts";
import { type AdminStepUp, adminOperations, startAdminService } from "./admin.ts";
import { loadAdminServerCredentials } from "./admin-credentials.ts";
import { startChallengeService } from "./challenge.ts";
import { loadOrCreateKeyFile } from "./envelope.ts";
import { loadOrCreateSealedMasterKey } from "./master-key.ts";
import { Metrics, startOpsServer } from "./metrics.ts";
import { createPolicySet, watchPolicyDir } from "./policies.ts";
import { type RunningService, startKeywardService } from "./service.ts";
import { openSqliteStore, type Store } from "./store.ts";
import { openPostgresStore } from "./store-postgres.ts";
import {
  hardwareQuoteTrust,
  hardwareTrust,
  simulatedServiceCredential,
  simulationQuoteTrust,
  simulationTrust,
} from "./trust.ts";

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
  /** The Admin listener's port, when it runs. */
  readonly adminPort?: number;
  /** The challenge–response listener's port, when it runs. */
  readonly challengePort?: number;
  readonly mode: "simulation" | "hardware";
  shutdown(): Promise<void>;
}

/** What tests and embedders may inject; a deployment uses the defaults. */
export interface RunOptions {
  /** The service's own attester (hardware mode); default: detected per `config.attester`. */
  readonly attester?: Attester;
  /** Fetch used for collateral (hardware mode). */
  readonly fetch?: typeof fetch;
  /** The second-factor check of the Admin service. */
  readonly stepUp?: AdminStepUp;
  /** The clock used by Explain when it verifies evidence. */
  readonly now?: () => Date;
}

/** The pieces that differ between simulation and hardware mode. */
interface Trust {
  readonly verifyPeer: VerifyCertificate;
  readonly verifyQuote: (quote: Uint8Array, at: Date) => VerifiedQuote | Promise<VerifiedQuote>;
  readonly credential: TlsCredential;
  readonly masterKey: Uint8Array;
  readonly describe: Record<string, string>;
}

async function simulationMode(config: ServiceConfig): Promise<Trust> {
  const platform = loadSimPlatform(join(config.dataDir, "sim"));
  return {
    verifyPeer: simulationTrust(platform),
    verifyQuote: simulationQuoteTrust(platform),
    credential: await simulatedServiceCredential(platform),
    masterKey: loadOrCreateKeyFile(config.masterKeyFile),
    describe: { trust: "simulated platform root (SIMULATION: not hardware)", masterKey: "key file" },
  };
}

async function hardwareMode(config: ServiceConfig, options: RunOptions): Promise<Trust> {
  const attester = options.attester ?? openAttester({ backend: config.attester });
  const provider = collateralProviderFor(config.pccsUrl, options.fetch);
  const sealed = !config.masterKeyFileExplicit && attester.sealingKey !== undefined;
  return {
    verifyPeer: hardwareTrust(provider),
    verifyQuote: hardwareQuoteTrust(provider),
    credential: await issueRaTlsCertificate({ attester }),
    masterKey: sealed
      ? await loadOrCreateSealedMasterKey(attester, join(config.dataDir, "master.key.sealed"))
      : loadOrCreateKeyFile(config.masterKeyFile),
    describe: {
      trust: `Intel SGX root; collateral from ${config.pccsUrl}`,
      attester: attester.backend,
      masterKey: sealed ? "sealed to the service (MRSIGNER)" : "key file",
    },
  };
}

/**
 * Starts the service as configured: simulation mode (`--simulation`: callers are verified against
 * the local simulated platform's root) or hardware mode (Intel's root, collateral from a PCS or
 * PCCS, the service's own certificate and master key from its attester).
 */
export async function runService(
  config: ServiceConfig,
  logger: pino.Logger = createLogger(),
  options: RunOptions = {},
): Promise<RunningKeyward> {
  const adminCredentials = loadAdminServerCredentials(config.dataDir);
  if (adminCredentials === undefined && config.adminListenExplicit)
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "--admin-listen is set but there are no admin credentials: run `keyward admin init` first",
    );
  const trust = config.simulation ? await simulationMode(config) : await hardwareMode(config, options);
  const metrics = new Metrics();
  const store = await openStore(config);
  const files = watchPolicyDir(config.policyDir, {
    onReload: (p) => logger.info({ event: "policies.reloaded", count: p.length }, "policy files reloaded"),
    onError: (e) =>
      logger.warn(
        { event: "policies.invalid", error: (e as Error).message },
        "policy reload failed; previous set kept",
      ),
  });
  const policies = await createPolicySet(files, store, {
    onError: (e) =>
      logger.warn({ event: "policies.stored.invalid", error: (e as Error).message }, "stored policy ignored"),
  });
  logger.info({ event: "policies.loaded", count: policies.current().length }, "policies loaded");
  const { masterKey } = trust;
  const service = await startKeywardService(
    {
      store,
      masterKey,
      policies: policies.current,
      verifyPeer: trust.verifyPeer,
      credential: trust.credential,
      logger,
      ...(config.vaultAddr === undefined ? {} : { vaultAddr: config.vaultAddr }),
      metrics,
    },
    { host: config.host, port: config.port },
  );
  const admin =
    adminCredentials === undefined
      ? undefined
      : await startAdminService(
          adminCredentials,
          adminOperations({
            store,
            masterKey: () => masterKey,
            policies,
            verifyCertificate: trust.verifyPeer,
            verifyQuote: trust.verifyQuote,
            ...(options.now === undefined ? {} : { now: options.now }),
          }),
          config.adminListen,
          options.stepUp,
        );
  if (admin === undefined)
    logger.warn({ event: "admin.disabled" }, "no Admin listener: run `keyward admin init` to enable it");
  const challenge =
    config.challengeListen === undefined
      ? undefined
      : await startChallengeService(
          {
            store,
            masterKey,
            policies: policies.current,
            verifyQuote: trust.verifyQuote,
            credential: trust.credential,
            ...(config.vaultAddr === undefined ? {} : { vaultAddr: config.vaultAddr }),
          },
          config.challengeListen,
        );
  const ops =
    config.opsListen === undefined ? undefined : await startOpsServer(metrics, store, config.opsListen);
  logger.info(
    {
      event: "listening",
      mode: config.simulation ? "simulation" : "hardware",
      ...trust.describe,
      host: config.host,
      port: service.port,
      engine: store.engine,
      adminPort: admin?.port,
      challengePort: challenge?.port,
      opsPort: ops?.port,
    },
    config.simulation ? "keyward serving (SIMULATION mode)" : "keyward serving",
  );
  return {
    ...service,
    store,
    mode: config.simulation ? "simulation" : "hardware",
    ...(admin === undefined ? {} : { adminPort: admin.port }),
    ...(challenge === undefined ? {} : { challengePort: challenge.port }),
    async shutdown() {
      policies.close();
      await ops?.close();
      await admin?.close();
      await challenge?.close();
      await service.close();
      await store.close();
      masterKey.fill(0);
    },
  };
}
