/**
 * The licensing feature (issue 14, docs/licensing.md): accounts and licences, one enclave per user
 * launched locally or on Kubernetes, its TLS certificate bound into a TPM quote. Off unless
 * `--licensing-listen` is set; then it runs its own TLS listener and its admin service on the
 * Admin listener.
 *
 * @module
 */

import { join } from "node:path";
import { fromHex } from "@keyward/attest/bytes";
import { createPeerVerifier } from "@keyward/channels/tls";
import { readTextBounded } from "@keyward/platform/io";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { openBundledDirectory } from "@keyward/platform/runtime";
import { loadSimPlatform } from "@keyward/platform/sim";
import { KubeConfig } from "@kubernetes/client-node";
import type { Feature, FeatureContext, FeatureRuntime } from "../../kernel/feature.ts";
import type { Listening } from "../../kernel/listening.ts";
import { accessTokens } from "./access-tokens.ts";
import { accounts } from "./accounts.ts";
import { enclaves as enclavesOver } from "./enclaves.ts";
import { deploymentOwner, KubernetesLauncher } from "./launchers/kubernetes.ts";
import type { EnclaveLauncher } from "./launchers/launcher.ts";
import { LocalLauncher } from "./launchers/local.ts";
import { issueLicence } from "./licences.ts";
import { startLicensingListener } from "./listener.ts";
import { LICENSING_MIGRATIONS } from "./migrations.ts";
import * as O from "./options.ts";
import { passwordHasher, pepperOf } from "./passwords.ts";
import { licensingCredential } from "./server-tls.ts";
import { licensingServices } from "./service.ts";
import { loginThrottle } from "./throttle.ts";
import { openTpmBinder, type TpmBinder } from "./tpm-binding.ts";

/** The licensed app shipped with Keyward (examples/licensed-app), for the local launcher; a single executable embeds it. */
const LICENSED_APP = new URL("../../../../../examples/licensed-app/", import.meta.url);
const SWEEP_MS = 2000;
const PEM = { kind: "certificate", what: "EK certificate chain" } as const;

async function launcherOf(
  ctx: FeatureContext,
): Promise<{ launcher: EnclaveLauncher; mrEnclave: Uint8Array; image: string; close?: () => void }> {
  const opts = ctx.config.options;
  const configured = opts.get(O.LICENSING_ENCLAVE_MRENCLAVE);
  if (opts.get(O.LICENSING_LAUNCHER) === "kubernetes") {
    const namespace = opts.get(O.LICENSING_KUBERNETES_NAMESPACE) ?? "keyward";
    const kubeConfig = new KubeConfig();
    const kubeconfigFile = opts.get(O.LICENSING_KUBECONFIG);
    if (kubeconfigFile === undefined) kubeConfig.loadFromDefault();
    else kubeConfig.loadFromString(readTextBounded(kubeconfigFile, { kind: "document", what: "kubeconfig" }));
    const ownerName = opts.get(O.LICENSING_OWNER_DEPLOYMENT);
    const owner =
      ownerName === undefined ? undefined : await deploymentOwner(kubeConfig, namespace, ownerName);
    if (configured === undefined)
      throw new Error("--licensing-enclave-mrenclave is required with the Kubernetes launcher");
    return {
      launcher: new KubernetesLauncher({
        kubeConfig,
        namespace,
        launcherId: opts.get(O.LICENSING_LAUNCHER_ID),
        ...(owner === undefined ? {} : { owner }),
      }),
      mrEnclave: fromHex(configured, "--licensing-enclave-mrenclave"),
      image: opts.get(O.LICENSING_ENCLAVE_IMAGE) ?? "localhost/keyward/licensed-app:latest",
    };
  }
  const configuredManifest = opts.get(O.LICENSING_ENCLAVE_MANIFEST);
  const bundled =
    configuredManifest === undefined ? openBundledDirectory("licensed-app", LICENSED_APP) : undefined;
  const manifest = loadManifest(configuredManifest ?? join(bundled?.path ?? "", "app.toml"));
  const measured = measure(manifest).mrEnclave;
  return {
    ...(bundled === undefined ? {} : { close: () => bundled.close() }),
    launcher: new LocalLauncher({
      manifest,
      platform: loadSimPlatform(join(ctx.config.dataDir, "sim")),
      onStderr: (id, line) =>
        ctx.logger.warn({ event: "licensing.enclave.stderr", enclave: id, line }, "enclave output"),
    }),
    mrEnclave: configured === undefined ? measured : fromHex(configured, "--licensing-enclave-mrenclave"),
    image: "local",
  };
}

async function start(ctx: FeatureContext): Promise<FeatureRuntime> {
  const opts = ctx.config.options;
  const listen = opts.get(O.LICENSING_LISTEN);
  if (listen === undefined) return {};
  const sql = ctx.store.sql;
  const credential = licensingCredential(ctx.config.dataDir, opts.get(O.LICENSING_SECRETS_DIR));
  // From the stable key, not the master key: a master-key rotation must not void every password
  // hash (the pepper) or every session (the token keys).
  const tokens = accessTokens(ctx.stableKey, ctx.now);
  const hasher = await passwordHasher(pepperOf(ctx.stableKey));
  const { launcher, mrEnclave, image, close: closeLauncher } = await launcherOf(ctx);
  const tpm = opts.get(O.LICENSING_TPM);
  const ekChain = opts.get(O.LICENSING_EK_CHAIN);
  const binder: TpmBinder | undefined =
    tpm === undefined
      ? undefined
      : await openTpmBinder(tpm, ekChain === undefined ? undefined : readTextBounded(ekChain, PEM));
  // Where enclaves reach this listener: configured, or known once it is bound.
  const kubernetes = opts.get(O.LICENSING_LAUNCHER) === "kubernetes";
  const configuredAdvertise = opts.get(O.LICENSING_ADVERTISE);
  let advertised = configuredAdvertise ?? {
    host: kubernetes
      ? `keyward-licensing.${opts.get(O.LICENSING_KUBERNETES_NAMESPACE) ?? "keyward"}.svc`
      : listen.host === "0.0.0.0" || listen.host === "::"
        ? "127.0.0.1"
        : listen.host,
    port: listen.port,
  };
  const trial = opts.get(O.LICENSING_TRIAL);
  const enclaves = enclavesOver({
    sql,
    launcher,
    now: ctx.now,
    expectedMrEnclave: mrEnclave,
    spec: ({ launchId, user, product }) => ({
      image,
      port: 8443,
      // In a pod the app listens on every address, at the spec's port; locally on loopback, any port.
      args: [
        advertised.host,
        String(advertised.port),
        launchId,
        user,
        product,
        ...(kubernetes ? ["0.0.0.0"] : []),
      ],
      env: {
        KEYWARD_LICENSING_CA: credential.certificatePem,
        ...(kubernetes ? { KEYWARD_ENCLAVE_PORT: "8443" } : {}),
      },
    }),
    onStopped: (e, reason) =>
      ctx.logger.info(
        { event: "licensing.enclave.stopped", enclave: e.id, licence: e.licenceId, reason },
        "enclave stopped",
      ),
  });
  const users = accounts({
    sql,
    hasher,
    throttle: loginThrottle(sql, ctx.now, {
      maxFailures: opts.get(O.LICENSING_MAX_FAILURES),
      clientMaxFailures: opts.get(O.LICENSING_CLIENT_MAX_FAILURES),
    }),
    tokens,
    verifyCode: ctx.verifyCode,
    now: ctx.now,
    accessTtl: opts.get(O.LICENSING_ACCESS_TTL),
    refreshTtl: opts.get(O.LICENSING_REFRESH_TTL),
    onFamilyRevoked: (family, reason) =>
      enclaves.stopFamily(family, reason === "reuse" ? "revoked" : "logout"),
    ...(trial === undefined
      ? {}
      : {
          onSignUp: async (user: string) => {
            await issueLicence(
              sql,
              user,
              {
                product: trial.product,
                entitlements: trial.entitlements,
                validSeconds: trial.seconds,
                maxEnclaves: trial.maxEnclaves,
              },
              ctx.now().getTime(),
            );
          },
        }),
  });
  const services = licensingServices(ctx, { accounts: users, tokens, enclaves, binder });
  const peerVerifier = createPeerVerifier({ verify: ctx.trust.verifyPeer });
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    enclaves
      .sweep()
      .catch((e: unknown) =>
        ctx.logger.warn({ event: "licensing.sweep.failed", error: String(e) }, "sweep failed"),
      )
      .finally(() => {
        sweeping = false;
      });
  }, SWEEP_MS);
  sweeper.unref();
  return {
    services: [
      services.admin,
      {
        listener: "own",
        name: "licensingPort",
        async start(): Promise<Listening> {
          const l = await startLicensingListener(
            [services.user],
            { credential, peerVerifier },
            () => tokens.jwks(),
            listen,
          );
          if (configuredAdvertise === undefined && !kubernetes) advertised = { ...advertised, port: l.port };
          const collected = await enclaves.collectOrphans();
          if (collected > 0)
            ctx.logger.info({ event: "licensing.orphans", stopped: collected }, "orphaned enclaves stopped");
          return l;
        },
      },
    ],
    readiness:
      binder === undefined
        ? []
        : [
            {
              name: "licensing-tpm",
              check: async () => void (await binder.bind(new Uint8Array(32), new Uint8Array(16))),
            },
          ],
    async close() {
      clearInterval(sweeper);
      if (launcher instanceof LocalLauncher)
        for (const i of await launcher.list()) await launcher.stop(i.id, "requested");
      await binder?.close();
      closeLauncher?.();
    },
  };
}

/** The licensing feature. */
export const licensingFeature: Feature = {
  name: "licensing",
  migrations: LICENSING_MIGRATIONS,
  options: [...O.LICENSING_OPTIONS],
  start,
};
