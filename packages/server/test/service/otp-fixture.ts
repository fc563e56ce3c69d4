/**
 * Shared by the OTP service tests: the service as `keyward serve --simulation` composes it (with
 * the OTP feature, the Admin listener and a settable clock) on SQLite or PostgreSQL, and clients
 * for the operator (Admin, OtpAdmin) and for attested apps (enrollment, secrets, KMS).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createClient } from "@connectrpc/connect";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { initSimPlatform, type SimPlatform } from "@keyward/platform/sim";
import {
  KeyManagementService,
  OtpEnrollmentService,
  SecretProvisioningService,
} from "@keyward/proto/keyward/v1";
import { fromConnectError } from "../../src/errors/connect.ts";
import { connectAdmin } from "../../src/features/admin/client.ts";
import { initAdminCredentials, loadAdminClientCredentials } from "../../src/features/admin/credentials.ts";
import { connectOtpAdmin } from "../../src/features/otp/client.ts";
import { totpCode } from "../../src/features/otp/totp.ts";
import { loadOrCreateKeyFile, sealSecret } from "../../src/kernel/envelope.ts";
import type { ServicePolicy } from "../../src/kernel/grants.ts";
import { simulatedServiceCredential, simulationQuoteTrust, simulationTrust } from "../../src/kernel/trust.ts";
import { composeService, loadServiceConfig } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import type { Store } from "../../src/store/contract.ts";
import { fixedPolicies, simulatedCaller } from "./helpers.ts";

/** A clock tests move by hand (milliseconds since the epoch). */
export class TestClock {
  ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
  readonly now = (): Date => new Date(this.ms);
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** The code of a promise's failure, or "resolved". */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return fromConnectError(e).code;
  }
  return "resolved";
}

/** Log lines, captured (to check that nothing secret is logged). */
export class CapturedLog {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk, _e, cb) => {
      this.lines.push(String(chunk));
      cb();
    },
  });
}

/** One replica of the service over `store`, sharing `dir` (sim platform, admin credentials, master key). */
export async function startOtpReplica(opts: {
  readonly dir: string;
  readonly platform: SimPlatform;
  readonly store: Store;
  readonly policies: readonly ServicePolicy[];
  readonly clock: TestClock;
  readonly flags?: Readonly<Record<string, string | boolean>>;
  readonly log?: CapturedLog;
}) {
  const config = loadServiceConfig(
    opts.dir,
    { listen: "127.0.0.1:0", adminListen: "127.0.0.1:0", simulation: true, ...opts.flags },
    {},
  );
  const masterKey = loadOrCreateKeyFile(join(opts.dir, "master.key"));
  const running = await composeService(
    {
      config,
      store: opts.store,
      masterKey,
      trust: {
        verifyPeer: simulationTrust(opts.platform),
        verifyQuote: simulationQuoteTrust(opts.platform),
        credential: await simulatedServiceCredential(opts.platform),
        describe: {},
      },
      policies: fixedPolicies([...opts.policies]),
      logger: createLogger((opts.log ?? new CapturedLog()).stream),
    },
    { now: opts.clock.now },
  );
  const credentials = loadAdminClientCredentials(opts.dir);
  const target = { host: "127.0.0.1", port: running.adminPort ?? 0 };
  return {
    running,
    port: running.port,
    admin: connectAdmin(credentials, target),
    otpAdmin: connectOtpAdmin(credentials, target),
    /** Clients of an attested app with MRENCLAVE = mr(m) on this replica. */
    async app(m: number) {
      const { credential, peerVerifier } = await simulatedCaller(opts.platform, m);
      const { transport } = await createRaTlsGrpcTransport({
        host: "127.0.0.1",
        port: running.port,
        credential,
        peerVerifier,
      });
      return {
        enrollment: createClient(OtpEnrollmentService, transport),
        secrets: createClient(SecretProvisioningService, transport),
        kms: createClient(KeyManagementService, transport),
      };
    },
  };
}

/** A data directory with a simulated platform, admin credentials, and one stored secret. */
export async function otpDataDir(store: (dir: string) => Promise<Store>) {
  const dir = mkdtempSync(join(tmpdir(), "keyward-otp-"));
  const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  initAdminCredentials(dir);
  const s = await store(dir);
  const masterKey = loadOrCreateKeyFile(join(dir, "master.key"));
  await s.putSecret(
    "occlum/1/image_key",
    (v) => sealSecret(masterKey, "occlum/1/image_key", v, new TextEncoder().encode("db-password-value")),
    { action: "secret.put", outcome: "ok", subject: "admin:test" },
  );
  return { dir, platform, store: s };
}

/** The TOTP code of an enrolled secret at the clock's time (SHA1, 6 digits, 30 s unless given). */
export function codeAt(
  secret: Uint8Array,
  ms: number,
  p = { algorithm: "SHA1" as const, digits: 6, period: 30 },
) {
  return totpCode(secret, p, ms);
}
