/** Shared by the service tests: a simulated platform, the service on SQLite, attested clients. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { createClient, type Transport } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { initSimPlatform, type SimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";
import { SecretProvisioningService } from "@keyward/proto/keyward/v1";
import { loadOrCreateKeyFile, sealSecret } from "../../src/kernel/envelope.ts";
import type { ServicePolicy } from "../../src/kernel/grants.ts";
import type { PolicySet } from "../../src/kernel/policy-set.ts";
import {
  SIM_SERVICE_MEASUREMENT,
  simulatedServiceCredential,
  simulationQuoteTrust,
  simulationTrust,
} from "../../src/kernel/trust.ts";
import {
  composeService,
  FEATURE_MIGRATIONS,
  loadServiceConfig,
  POLICY_READER,
  type RunOptions,
} from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import type { Store } from "../../src/store/contract.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";

export const mr = (v: number): Uint8Array => new Uint8Array(32).fill(v);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A policy in the seed format (grants read by the features, as the service reads its files). */
export function seedPolicy(
  id: string,
  mrEnclave: number,
  extra: Record<string, unknown> = {},
): ServicePolicy {
  const doc: Record<string, unknown> = {
    id,
    mr_enclave: hex(mr(mrEnclave)),
    app_token: "not-a-real-token",
    secrets: { master_key: "occlum/1/image_key" },
    platforms: ["simulated"],
    ...extra,
  };
  // An extra field given as undefined removes it (a policy without an app_token, …).
  for (const [k, v] of Object.entries(doc)) if (v === undefined) delete doc[k];
  return POLICY_READER.policy(doc, `${id}.json`);
}

/** A fixed policy set (what the files and the store would give). */
export function fixedPolicies(policies: readonly ServicePolicy[]): PolicySet {
  return {
    reader: POLICY_READER,
    current: () => policies,
    entries: () => policies.map((policy) => ({ policy, source: "test", version: 0 })),
    refresh: async () => undefined,
    close: () => undefined,
  };
}

const silent = () => createLogger(new Writable({ write: (_c, _e, cb) => cb() }));

/** What a fixture may change: the run options, and service flags (as `keyward serve` takes them). */
export interface FixtureOptions extends RunOptions {
  readonly serviceFlags?: Readonly<Record<string, string | boolean>>;
}

export function startFixture(policies: ServicePolicy[], options: FixtureOptions = {}) {
  return startFixtureOn(policies, (dir) => openSqliteStore(dir, { migrations: FEATURE_MIGRATIONS }), options);
}

/**
 * The service (as `keyward serve --simulation` composes it, with a fixed policy set) on the store
 * `open` makes, its service and challenge listeners on free ports, and one stored secret
 * `occlum/1/image_key`.
 */
export async function startFixtureOn(
  policies: ServicePolicy[],
  open: (dir: string) => Promise<Store>,
  options: FixtureOptions = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "keyward-service-"));
  const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  const store: Store = await open(dir);
  const masterKey = loadOrCreateKeyFile(join(dir, "master.key"));
  await store.putSecret(
    "occlum/1/image_key",
    (v) => sealSecret(masterKey, "occlum/1/image_key", v, new TextEncoder().encode("s3cr3t-image-key")),
    { action: "secret.put", outcome: "ok", subject: "admin:test" },
  );
  const config = loadServiceConfig(
    dir,
    { listen: "127.0.0.1:0", challengeListen: "127.0.0.1:0", simulation: true, ...options.serviceFlags },
    {},
  );
  const running = await composeService(
    {
      config,
      store,
      masterKey: new Uint8Array(masterKey),
      trust: {
        verifyPeer: simulationTrust(platform),
        verifyQuote: simulationQuoteTrust(platform),
        credential: await simulatedServiceCredential(platform),
        describe: {},
      },
      policies: fixedPolicies(policies),
      logger: silent(),
    },
    options,
  );
  const service = { port: running.port, close: () => running.shutdown() };
  return { dir, platform, store, masterKey, service, running };
}

/**
 * What a simulated enclave with MRENCLAVE = mr(m) needs to call the service: its RA-TLS credential,
 * and a verifier that accepts only the service's simulated identity.
 */
export async function simulatedCaller(platform: SimPlatform, m: number, debug = false) {
  const root = parsePemCertificates(platform.rootCertificatePem)[0];
  if (root === undefined) throw new Error("no root");
  const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  const collateral = parseCollateralJson(platform.collateralJson("sgx"));
  const policy = policyFromObject(
    { id: "service", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
    "client",
  );
  const credential = await issueRaTlsCertificate({
    attester: simulatedPlatformAttester(platform, {
      mrEnclave: mr(m),
      mrSigner: mr(0x55),
      isvProdId: 1,
      isvSvn: 1,
      ...(debug ? { debug: true } : {}),
    }),
  });
  const peerVerifier = createPeerVerifier({
    verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy }),
  });
  return { credential, peerVerifier };
}

/** A client acting as a simulated enclave with MRENCLAVE = mr(m), verifying the service's identity. */
export async function clientAs(platform: SimPlatform, port: number, m: number, debug = false) {
  const { credential, peerVerifier } = await simulatedCaller(platform, m, debug);
  const { transport } = await createRaTlsGrpcTransport({ host: "127.0.0.1", port, credential, peerVerifier });
  lastTransport = transport;
  return createClient(SecretProvisioningService, transport);
}

/** `keyward serve --simulation` as a child process; resolves with its ports (from the "listening" log line). */
export function spawnServe(
  keyward: string,
  dir: string,
  extra: readonly string[] = [],
): Promise<{ child: ChildProcess; port: number; adminPort?: number; opsPort?: number }> {
  const child = spawn(
    process.execPath,
    [keyward, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--simulation", ...extra],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        const j = JSON.parse(line);
        if (j.event === "listening")
          resolve({ child, port: j.port, adminPort: j.adminPort, opsPort: j.opsPort });
      } catch {
        // not a log line
      }
    });
  });
}

let lastTransport: Transport | undefined;

/** A KMS client over the same kind of connection as {@link clientAs}. */
export async function kmsClientAs(platform: SimPlatform, port: number, m: number) {
  const { KeyManagementService } = await import("@keyward/proto/keyward/v1");
  const c = await clientAs(platform, port, m);
  void c;
  return createClient(KeyManagementService, lastTransport as Transport);
}
