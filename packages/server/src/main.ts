/**
 * The composition root (`@keyward/server`): the features, one line each, and `runService`, which
 * wires a configured service — store (SQLite or PostgreSQL, with every feature's migrations),
 * master key, trust (simulation or hardware mode), hot-reloaded policies (read with every
 * feature's grant kinds), the release gate, the kernel's listeners with the features' services on
 * them, and the ops listener. Used by `keyward serve`.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { collateralProviderFor } from "@keyward/channels/collateral";
import { type Attester, openAttester } from "@keyward/platform/enclave";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { loadSimPlatform } from "@keyward/platform/sim";
import type pino from "pino";
import { loadAdminServerCredentials } from "./features/admin/credentials.ts";
import { adminFeature } from "./features/admin/feature.ts";
import { gramineFeature } from "./features/gramine/feature.ts";
import { kbsFeature } from "./features/kbs/feature.ts";
import { kmsFeature } from "./features/kms/feature.ts";
import { licensingFeature } from "./features/licensing/feature.ts";
import { otpFeature } from "./features/otp/feature.ts";
import { secretsFeature } from "./features/secrets/feature.ts";
import { signerFeature } from "./features/signer/feature.ts";
import { Drain } from "./kernel/drain.ts";
import { loadOrCreateKeyFile } from "./kernel/envelope.ts";
import type { Feature, FeatureContext, FeatureRuntime, OwnListener } from "./kernel/feature.ts";
import { createGate } from "./kernel/gate.ts";
import { type PolicyReader, policyReader } from "./kernel/grants.ts";
import { readinessProbe } from "./kernel/grpc-health.ts";
import {
  grpcHealthH2cServer,
  startAdminListener,
  startChallengeListener,
  startServiceListener,
} from "./kernel/listeners.ts";
import { type Listening, listenOn } from "./kernel/listening.ts";
import { loadOrCreateSealedMasterKey } from "./kernel/master-key.ts";
import {
  observeQuoteVerification,
  observeStepUp,
  observeStore,
  peerVerificationObserver,
} from "./kernel/observe.ts";
import { openPolicyDocument, sealStoredPolicies } from "./kernel/policy-sealing.ts";
import { createPolicySet, type PolicySet, watchPolicyDir } from "./kernel/policy-set.ts";
import { requestObserver } from "./kernel/requests.ts";
import type { RpcService } from "./kernel/rpc.ts";
import type { SecondFactor } from "./kernel/second-factor.ts";
import { NO_SECRET_RELEASE, type SecretRelease } from "./kernel/secret-release.ts";
import { loadOrCreateStableKey } from "./kernel/stable-key.ts";
import { type AdminStepUp, NO_STEP_UP } from "./kernel/step-up.ts";
import {
  hardwareQuoteTrust,
  hardwareTrust,
  type ServiceTrust,
  simulatedServiceCredential,
  simulationQuoteTrust,
  simulationTrust,
} from "./kernel/trust.ts";
import { CORE_OPTIONS, readServiceConfig, type ServiceConfig, SHUTDOWN_GRACE } from "./ops/config.ts";
import type { ConfigFile } from "./ops/config-file.ts";
import { type ReadinessCheck, startOpsServer } from "./ops/health.ts";
import { createLogger, type ServiceLogger } from "./ops/logs.ts";
import { Metrics } from "./ops/metrics.ts";
import type { Option } from "./ops/options.ts";
import { type GuardedStore, guardStore } from "./store/availability.ts";
import type { Store } from "./store/contract.ts";
import { asStoreError } from "./store/faults.ts";
import type { MigrationSet } from "./store/migrations.ts";
import { openStore as openEngine } from "./store/open.ts";

/** The features, one line each. */
export const FEATURES: readonly Feature[] = [
  secretsFeature,
  kmsFeature,
  adminFeature,
  otpFeature,
  kbsFeature,
  signerFeature,
  licensingFeature,
  gramineFeature,
];

/** Every option of `keyward serve`: the core's, then each feature's. */
export const SERVICE_OPTIONS: readonly Option<unknown>[] = [
  ...CORE_OPTIONS,
  ...FEATURES.flatMap((f) => f.options ?? []),
];

/** Policy documents read with every feature's grant kinds. */
export const POLICY_READER: PolicyReader = policyReader(FEATURES.flatMap((f) => f.grants ?? []));

/** Every feature's migrations, each under its name. */
export const FEATURE_MIGRATIONS: readonly MigrationSet[] = FEATURES.filter(
  (f) => f.migrations !== undefined,
).map((f) => ({ owner: f.name, migrations: f.migrations ?? [] }));

/**
 * The configuration from flags (by flag name or option key), then the environment (`env`
 * defaults to `process.env`), then the configuration file (`readConfigFile`), then defaults.
 * @throws ERR_SERVICE_CONFIG listing every problem at once (the file's included)
 */
export function loadServiceConfig(
  dataDir: string,
  flags: Readonly<Record<string, string | boolean | undefined>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
  file?: ConfigFile,
): ServiceConfig {
  return readServiceConfig(SERVICE_OPTIONS, { dataDir, flags, env, file });
}

/** The configured store, migrated (the core schema and every feature's tables). */
export async function openStore(config: Pick<ServiceConfig, "dataDir" | "database">): Promise<Store> {
  try {
    return await openEngine(config.dataDir, config.database, FEATURE_MIGRATIONS);
  } catch (e) {
    throw asStoreError(e); // a database that cannot be opened or migrated names its cause
  }
}

/** A running service. */
export interface RunningKeyward {
  readonly store: Store;
  /** The service listener's port. */
  readonly port: number;
  /** The Admin listener's port, when it runs. */
  readonly adminPort?: number;
  /** The challenge–response listener's port, when it runs. */
  readonly challengePort?: number;
  /** The ops listener's port (/healthz, /readyz, /metrics), when it runs. */
  readonly opsPort?: number;
  /** The plaintext gRPC health listener's port, when it runs. */
  readonly grpcHealthPort?: number;
  /** The ports of the features' own listeners, by name (`kbsPort`, …), when they run. */
  readonly ports: Readonly<Record<string, number>>;
  readonly mode: "simulation" | "hardware";
  /** The service's counters (also on the ops listener's /metrics). */
  readonly metrics: Metrics;
  shutdown(): Promise<void>;
}

/** What tests and embedders may inject; a deployment uses the defaults. */
export interface RunOptions {
  /** The service's own attester (hardware mode); default: detected per `config.attester`. */
  readonly attester?: Attester;
  /** Fetch used for collateral (hardware mode). */
  readonly fetch?: typeof fetch;
  /** The second-factor check of the Admin service (else: the features', else none). */
  readonly stepUp?: AdminStepUp;
  /** The service's clock. */
  readonly now?: () => Date;
}

async function simulationMode(
  config: ServiceConfig,
): Promise<{ trust: ServiceTrust; masterKey: Uint8Array }> {
  const platform = loadSimPlatform(join(config.dataDir, "sim"));
  return {
    trust: {
      verifyPeer: simulationTrust(platform),
      verifyQuote: simulationQuoteTrust(platform),
      credential: await simulatedServiceCredential(platform),
      describe: { trust: "simulated platform root (SIMULATION: not hardware)", masterKey: "key file" },
    },
    masterKey: loadOrCreateKeyFile(config.masterKeyFile),
  };
}

async function hardwareMode(
  config: ServiceConfig,
  options: RunOptions,
  metrics: Metrics,
): Promise<{ trust: ServiceTrust; masterKey: Uint8Array }> {
  const attester = options.attester ?? openAttester({ backend: config.attester });
  const provider = collateralProviderFor(config.pccsUrl, options.fetch, {
    // The service's clock decides when cached collateral is stale.
    ...(options.now === undefined ? {} : { now: options.now }),
    onLookup: ({ result, error }) => {
      metrics.collateralCache.inc({ result });
      if (error !== undefined)
        metrics.collateralFetchErrors.inc({ code: isKeywardError(error) ? error.code : "ERR_INTERNAL" });
    },
  });
  const sealed = !config.masterKeyFileExplicit && attester.sealingKey !== undefined;
  return {
    trust: {
      verifyPeer: hardwareTrust(provider),
      verifyQuote: hardwareQuoteTrust(provider),
      credential: await issueRaTlsCertificate({ attester }),
      describe: {
        trust: `Intel SGX root; collateral from ${config.pccsUrl}`,
        attester: attester.backend,
        masterKey: sealed ? "sealed to the service (MRSIGNER)" : "key file",
      },
    },
    masterKey: sealed
      ? await loadOrCreateSealedMasterKey(attester, join(config.dataDir, "master.key.sealed"))
      : loadOrCreateKeyFile(config.masterKeyFile),
  };
}

/**
 * Creates the policy directory when it does not exist (0700: policies may carry Vault app tokens),
 * so that it is watched from the start: files added to a directory that did not exist at start
 * were once ignored until a restart.
 * @throws ERR_SERVICE_CONFIG when it cannot be created, or is not a directory
 */
function ensurePolicyDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? "EIO";
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      `--policy-dir/KEYWARD_POLICY_DIR ${dir} cannot be created (${code})`,
      { cause, detail: { path: dir, reason: code } },
    );
  }
}

/**
 * Starts the service as configured: simulation mode (`--simulation`: callers are verified against
 * the local simulated platform's root) or hardware mode (Intel's root, collateral from a PCS or
 * PCCS, the service's own certificate and master key from its attester).
 * @throws ERR_SERVICE_CONFIG (admin listener asked for without credentials, bad policies, …), attester codes
 */
export async function runService(
  config: ServiceConfig,
  logger: pino.Logger = createLogger(),
  options: RunOptions = {},
): Promise<RunningKeyward> {
  if (loadAdminServerCredentials(config.dataDir) === undefined && config.adminListenExplicit)
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "--admin-listen is set but there are no admin credentials: run `keyward admin init` first",
    );
  // Whatever start-up opened is closed again when a later step fails (a port in use, a bad policy
  // file, a store that cannot commit), newest first, so that a failed start leaves no watcher,
  // timer, connection pool or listener keeping the process alive with nothing to serve.
  const opened: (() => unknown)[] = [];
  const undo = async () => {
    for (const close of opened.reverse()) await Promise.resolve(close()).catch(() => undefined);
  };
  const metrics = new Metrics();
  try {
    const { trust, masterKey } = config.simulation
      ? await simulationMode(config)
      : await hardwareMode(config, options, metrics);
    opened.push(() => masterKey.fill(0));
    const store = guardStore(await openStore(config), {
      onFault: (operation, cause) =>
        logger.error({ event: "store.unavailable", operation, cause }, `the store cannot commit: ${cause}`),
      onRecovered: () => logger.info({ event: "store.recovered" }, "the store commits again"),
    });
    opened.push(() => store.close());
    // A store that cannot commit refuses the start (a read-only file, a full disk), instead of a
    // service that answers every write with an error.
    await store.health.probe();
    // Stored policies written before they were sealed (plaintext app tokens) are sealed now.
    const sealedNow = await sealStoredPolicies(store, masterKey);
    if (sealedNow > 0)
      logger.info(
        { event: "policies.sealed", count: sealedNow },
        `${sealedNow} stored policy versions sealed`,
      );
    ensurePolicyDir(config.policyDir);
    // Grants are held to what this configuration allows (file: directories, a Vault address).
    const reader = POLICY_READER.confined(config.options);
    const files = watchPolicyDir(config.policyDir, reader, {
      onReload: (p) => logger.info({ event: "policies.reloaded", count: p.length }, "policy files reloaded"),
      onError: (e) =>
        logger.warn(
          { event: "policies.invalid", error: (e as Error).message },
          "policy reload failed; previous set kept",
        ),
    });
    opened.push(() => files.close());
    logger.info(
      { event: "policies.watching", dir: config.policyDir },
      `watching the policy directory ${config.policyDir}`,
    );
    const policies = await createPolicySet(files, store, reader, {
      openDocument: (row) => openPolicyDocument(masterKey, row),
      onError: (e) =>
        logger.warn(
          { event: "policies.stored.invalid", error: (e as Error).message },
          "stored policy ignored",
        ),
    });
    opened.push(() => policies.close());
    logger.info({ event: "policies.loaded", count: policies.current().length }, "policies loaded");
    // From here composeService owns the parts: it closes them itself when it fails.
    opened.length = 0;
    return await composeService({ config, store, masterKey, trust, policies, logger, metrics }, options);
  } catch (e) {
    await undo();
    throw e;
  }
}

/** The parts a service is composed of, once its mode, store and policies are set up. */
export interface ServiceParts {
  readonly config: ServiceConfig;
  readonly store: Store;
  readonly masterKey: Uint8Array;
  readonly trust: ServiceTrust;
  readonly policies: PolicySet;
  readonly logger: ServiceLogger;
  /** The registry to count in (made here when not given). */
  readonly metrics?: Metrics;
}

/**
 * Starts the gate, the features and the listeners over `parts` (which the running service then
 * owns: `shutdown` closes the policies, the store and zeroes the master key). `runService` calls
 * this; tests call it with a fixed policy set.
 */
export async function composeService(parts: ServiceParts, options: RunOptions = {}): Promise<RunningKeyward> {
  const { config, masterKey, policies, logger } = parts;
  const now = options.now ?? (() => new Date());
  const metrics = parts.metrics ?? new Metrics();
  const drain = new Drain();
  const requests = requestObserver(logger, metrics, drain);
  // The kernel measures what it composes: store failures and the audit queue, verifications.
  const store = observeStore(parts.store, metrics);
  const trust: ServiceTrust = {
    ...parts.trust,
    verifyQuote: observeQuoteVerification(parts.trust.verifyQuote, metrics),
  };
  const opened: { stopAccepting?(): void; close(): Promise<void> }[] = [];
  const runtimes: FeatureRuntime[] = [];
  let stableKey: Uint8Array | undefined;
  // SIGTERM: stop taking connections and requests (new ones: UNAVAILABLE, before any work), let
  // those in flight finish within the grace period, then close every part, the store last. Every
  // part is closed even when one fails to (the first failure is reported once all are).
  const shutdown = async () => {
    if (!drain.draining) {
      for (const l of opened) l.stopAccepting?.();
      const graceSeconds = config.options.get(SHUTDOWN_GRACE);
      const before = drain.inFlight;
      const left = await drain.begin(graceSeconds * 1000);
      if (left > 0)
        logger.warn(
          { event: "shutdown.grace.expired", inFlight: left, graceSeconds },
          `shutdown: ${left} calls still in flight after ${graceSeconds} s are cut off`,
        );
      else if (before > 0)
        logger.info({ event: "shutdown.drained", inFlight: before }, "shutdown: in-flight calls finished");
    }
    const failures: unknown[] = [];
    const attempt = async (close: () => unknown) => {
      try {
        await close();
      } catch (e) {
        failures.push(e);
      }
    };
    await attempt(() => policies.close());
    for (const l of opened.reverse()) await attempt(() => l.close());
    for (const r of runtimes.reverse()) await attempt(() => r.close?.());
    await attempt(() => parts.store.close());
    masterKey.fill(0);
    stableKey?.fill(0);
    if (failures.length > 0) throw failures[0];
  };
  try {
    const adminCredentials = loadAdminServerCredentials(config.dataDir);
    let stepUp: AdminStepUp = options.stepUp ?? NO_STEP_UP;
    let secondFactor: SecondFactor | undefined;
    let secretRelease: SecretRelease = NO_SECRET_RELEASE;
    stableKey = await loadOrCreateStableKey(parts.store.sql, masterKey);
    const ctx: FeatureContext = {
      config,
      store,
      gate: createGate({
        policies: policies.current,
        appendAudit: store.appendAudit,
        metrics,
        requests,
        secondFactor: () => secondFactor,
      }),
      policies,
      masterKey,
      stableKey,
      trust,
      logger,
      metrics,
      now,
      stepUp: observeStepUp((call) => stepUp(call), metrics),
      releaseSecrets: (request) => secretRelease(request),
      verifyCode: (presented, context) => {
        if (secondFactor === undefined)
          throw new KeywardError("ERR_OTP_REQUIRED", "no one-time password feature is running");
        return secondFactor.verify(presented, context);
      },
    };
    for (const f of FEATURES) if (f.start !== undefined) runtimes.push(await f.start(ctx));
    const provided = runtimes.find((r) => r.adminStepUp !== undefined)?.adminStepUp;
    if (options.stepUp === undefined && provided !== undefined) stepUp = provided;
    secondFactor = runtimes.find((r) => r.secondFactor !== undefined)?.secondFactor;
    secretRelease = runtimes.find((r) => r.secretRelease !== undefined)?.secretRelease ?? NO_SECRET_RELEASE;

    const services = runtimes.flatMap((r) => r.services ?? []);
    const on = (kind: RpcService["listener"]) => services.filter((s): s is RpcService => s.listener === kind);
    // While draining, readiness answers "draining" at once: the other checks (a store probe that
    // waits for a busy database) are not run then.
    const unlessDraining = (c: ReadinessCheck): ReadinessCheck => ({
      name: c.name,
      check: async () => {
        if (!drain.draining) await c.check();
      },
    });
    const checks: ReadinessCheck[] = [
      {
        name: "draining",
        check: async () => {
          if (drain.draining) throw new Error("shutting down");
        },
      },
      ...[
        {
          name: "store",
          // A guarded store proves it commits; a bare one (tests composing a service) that it reads.
          check: async () =>
            "health" in store ? (store as GuardedStore).health.ready() : void (await store.readAudit(1, 1)),
        },
        ...runtimes.flatMap((r) => r.readiness ?? []),
      ].map(unlessDraining),
    ];
    const ready = readinessProbe({ checks, draining: () => drain.draining });
    const service = await startServiceListener(
      on("service"),
      {
        credential: trust.credential,
        verifyPeer: trust.verifyPeer,
        onVerified: peerVerificationObserver(metrics),
      },
      { host: config.host, port: config.port },
      requests,
    );
    opened.push(service);
    const admin =
      adminCredentials === undefined
        ? undefined
        : await startAdminListener(on("admin"), adminCredentials, config.adminListen, ready, requests);
    if (admin === undefined)
      logger.warn({ event: "admin.disabled" }, "no Admin listener: run `keyward admin init` to enable it");
    else opened.push(admin);
    const challenge =
      config.challengeListen === undefined
        ? undefined
        : await startChallengeListener(
            on("challenge"),
            { credential: trust.credential },
            config.challengeListen,
            ready,
            requests,
          );
    if (challenge !== undefined) opened.push(challenge);
    const own: Record<string, number> = {};
    for (const o of services.filter((s): s is OwnListener => s.listener === "own")) {
      const l: Listening = await o.start();
      opened.push(l);
      own[o.name] = l.port;
    }
    const grpcHealth =
      config.grpcHealthListen === undefined
        ? undefined
        : await listenOn(
            grpcHealthH2cServer(
              services.filter((s): s is RpcService => s.listener !== "own"),
              ready,
            ),
            config.grpcHealthListen,
          );
    // Health and ops keep answering while the service drains (readiness then says "draining").
    if (grpcHealth !== undefined) opened.push({ close: () => grpcHealth.close() });
    const ops =
      config.opsListen === undefined ? undefined : await startOpsServer(metrics, checks, config.opsListen);
    if (ops !== undefined) opened.push({ close: () => ops.close() });
    logger.info(
      {
        event: "listening",
        mode: config.simulation ? "simulation" : "hardware",
        ...trust.describe,
        host: config.host,
        port: service.port,
        engine: store.engine,
        features: FEATURES.map((f) => f.name),
        adminPort: admin?.port,
        challengePort: challenge?.port,
        opsPort: ops?.port,
        grpcHealthPort: grpcHealth?.port,
        ...own,
      },
      config.simulation ? "keyward serving (SIMULATION mode)" : "keyward serving",
    );
    return {
      store,
      port: service.port,
      mode: config.simulation ? "simulation" : "hardware",
      metrics,
      ...(admin === undefined ? {} : { adminPort: admin.port }),
      ...(challenge === undefined ? {} : { challengePort: challenge.port }),
      ...(ops === undefined ? {} : { opsPort: ops.port }),
      ...(grpcHealth === undefined ? {} : { grpcHealthPort: grpcHealth.port }),
      ports: own,
      shutdown,
    };
  } catch (e) {
    await shutdown().catch(() => undefined);
    throw e;
  }
}

export { SIM_SERVICE_MEASUREMENT } from "./kernel/trust.ts";
export type { ServiceConfig } from "./ops/config.ts";
export { type ConfigFile, DATA_DIR_KEY, readConfigFile } from "./ops/config-file.ts";
export { createLogger, REDACT_PATHS } from "./ops/logs.ts";
export type { Option } from "./ops/options.ts";
