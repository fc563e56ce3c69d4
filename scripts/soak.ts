/**
 * Soak test (not in the default suite): 64 clients for the whole run against two replicas of
 * `keyward serve` on one PostgreSQL, while one replica is killed with SIGKILL and restarted every
 * 30 s and the database restarts once. Then: nothing acknowledged is lost (every acknowledged
 * release has its audit entry, every acknowledged secret write is stored) and the audit chain
 * verifies. Prints the figures docs/reliability.md records, and exits 1 when an invariant fails.
 *
 *   npm run soak -- [--seconds 240] [--clients 64] [--writers 4] [--kill-every 30] [--json]
 *
 * PostgreSQL is a private cluster made for the run in a temporary directory (initdb and pg_ctl of
 * the newest /usr/lib/postgresql/N/bin, on a free port; run as the `postgres` user when started
 * as root), so restarting it disturbs no one else's server. The replicas are the CLI from the
 * sources, in simulation mode; the clients are simulated enclaves over mutual RA-TLS (releases)
 * and the Admin listener's mutual TLS (writes).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { initSimPlatform, type SimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";
import { SecretProvisioningService } from "@keyward/proto/keyward/v1";
import { loadServiceConfig, SIM_SERVICE_MEASUREMENT } from "@keyward/server";
import {
  connectAdmin,
  fromConnectError,
  initAdminCredentials,
  loadAdminClientCredentials,
  openStore,
} from "@keyward/server/admin";
import { auditEntries, verifyAuditLog } from "@keyward/server/audit";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "240" },
    clients: { type: "string", default: "64" },
    writers: { type: "string", default: "4" },
    "kill-every": { type: "string", default: "30" },
    json: { type: "boolean", default: false },
  },
});
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const WRITERS = Number(args.writers);
const KILL_EVERY = Number(args["kill-every"]);
const APP = 0x50;
const ROOT = new URL("../", import.meta.url).pathname;
const KEYWARD = join(ROOT, "packages/cli/bin/keyward.ts");
const log = (line: string) =>
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// ---- the private PostgreSQL cluster --------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), "keyward-soak-"));
chmodSync(work, 0o711);
const pgBin = (() => {
  const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
  return join("/usr/lib/postgresql", versions[0] ?? "15", "bin");
})();
const root = process.getuid?.() === 0;
const asPostgres = (cmd: string, argv: string[]) => {
  const r = root
    ? spawnSync("runuser", ["-u", "postgres", "--", join(pgBin, cmd), ...argv], { encoding: "utf8" })
    : spawnSync(join(pgBin, cmd), argv, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
};
// The same, without blocking the clients (they keep calling while the database restarts).
const asPostgresAsync = (cmd: string, argv: string[]) =>
  new Promise<void>((resolveRun, reject) => {
    const child = root
      ? spawn("runuser", ["-u", "postgres", "--", join(pgBin, cmd), ...argv], { stdio: "ignore" })
      : spawn(join(pgBin, cmd), argv, { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolveRun() : reject(new Error(`${cmd} exited ${code}`))));
  });
const pgData = join(work, "pg");
mkdirSync(pgData, { mode: 0o700 });
if (root) {
  const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim();
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim();
  chownSync(pgData, Number(id), Number(gid));
}
const pgPort = await freePort();
const pgOptions = `-p ${pgPort} -k ${pgData} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on`;
asPostgres("initdb", ["-D", pgData, "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
asPostgres("pg_ctl", ["-D", pgData, "-l", join(pgData, "server.log"), "-o", pgOptions, "-w", "start"]);
const DB_URL = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
log(`private PostgreSQL on 127.0.0.1:${pgPort} (${pgBin})`);

// ---- the service's data directory: simulated platform, admin credentials, policy, secret -----
const dataDir = join(work, "data");
const platform: SimPlatform = initSimPlatform(join(dataDir, "sim"), { now: new Date() });
initAdminCredentials(dataDir);
mkdirSync(join(dataDir, "policies"), { recursive: true });
writeFileSync(
  join(dataDir, "policies", "app.json"),
  JSON.stringify({
    id: "app",
    mr_enclave: Buffer.alloc(32, APP).toString("hex"),
    secrets: { value: "soak/secret" },
    platforms: ["simulated"],
  }),
);
writeFileSync(join(work, "value"), "soak-secret-value", { mode: 0o600 });
const storeFlags = [
  "--data-dir",
  dataDir,
  "--database-url",
  DB_URL,
  "--db-schema",
  "keyward",
  "--simulation",
];
const put = spawnSync(
  process.execPath,
  [
    "--disable-warning=ExperimentalWarning",
    "--conditions=keyward-source",
    KEYWARD,
    "admin",
    "put-secret",
    "soak/secret",
    "--value-file",
    join(work, "value"),
    ...storeFlags,
  ],
  { encoding: "utf8" },
);
if (put.status !== 0) throw new Error(`put-secret failed: ${put.stderr}`);

// ---- two replicas on fixed ports (a restarted replica comes back where clients look for it) --
interface Replica {
  readonly name: string;
  readonly port: number;
  readonly adminPort: number;
  readonly opsPort: number;
  child?: ChildProcess;
}
const replicas: Replica[] = [];
for (const name of ["a", "b"])
  replicas.push({ name, port: await freePort(), adminPort: await freePort(), opsPort: await freePort() });

async function ready(r: Replica, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${r.opsPort}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`replica ${r.name} not ready in ${timeoutMs} ms`);
}

async function start(r: Replica): Promise<void> {
  r.child = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      "--conditions=keyward-source",
      KEYWARD,
      "serve",
      ...storeFlags,
      "--listen",
      `127.0.0.1:${r.port}`,
      "--admin-listen",
      `127.0.0.1:${r.adminPort}`,
      "--ops-listen",
      `127.0.0.1:${r.opsPort}`,
      "--log-level",
      "warn",
    ],
    {
      stdio: [
        "ignore",
        openSync(join(work, `replica-${r.name}.log`), "a"),
        openSync(join(work, `replica-${r.name}.log`), "a"),
      ],
    },
  );
  const child = r.child;
  child.once("exit", (code, signal) => {
    // A replica the soak did not kill exited by itself: that is a finding, not noise.
    if (signal !== "SIGKILL" && signal !== "SIGTERM" && running) {
      events.push(
        `replica ${r.name} exited by itself (${signal ?? code}): ${tail(join(work, `replica-${r.name}.log`))}`,
      );
      log(events.at(-1) as string);
    }
  });
  await ready(r);
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("    at "))
      .slice(-6)
      .join(" | ");
  } catch {
    return "";
  }
}

// A connection attempt that never completes must not hold a client forever.
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error("connect timeout"), { code: "CONNECT_TIMEOUT" })),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---- clients ---------------------------------------------------------------------------------
const anchors = parsePemCertificates(platform.rootCertificatePem);
const verifier = createDcapVerifier({
  anchors: anchors.map((certificate) => ({ certificate, platform: "simulated" as const })),
});
const collateral = parseCollateralJson(platform.collateralJson("sgx"));
const servicePolicy = policyFromObject(
  {
    id: "service",
    platforms: ["simulated"],
    mrEnclave: [Buffer.from(SIM_SERVICE_MEASUREMENT).toString("hex")],
  },
  "soak",
);
const credential = await issueRaTlsCertificate({
  attester: simulatedPlatformAttester(platform, {
    mrEnclave: new Uint8Array(32).fill(APP),
    mrSigner: new Uint8Array(32).fill(0x55),
    isvProdId: 1,
    isvSvn: 1,
  }),
});
const peerVerifier = createPeerVerifier({
  verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy: servicePolicy }),
});
const adminCredentials = loadAdminClientCredentials(dataDir);

const latenciesMs: number[] = [];
const errors = new Map<string, number>();
let released = 0;
const ackedWrites: { name: string; version: number }[] = [];
let running = true;

function kindOf(e: unknown): string {
  if (e instanceof ConnectError) {
    const k = fromConnectError(e).code;
    return k === "ERR_INTERNAL" ? `grpc:${Code[e.code]}` : k;
  }
  const code = (e as NodeJS.ErrnoException).code;
  const reason = (e as { detail?: { reason?: unknown } }).detail?.reason;
  if (typeof code === "string") return typeof reason === "string" ? `${code}:${reason}` : code;
  return (e as Error).name;
}
const count = (kind: string) => errors.set(kind, (errors.get(kind) ?? 0) + 1);

async function releaseClient(i: number): Promise<void> {
  let client: ReturnType<typeof createClient<typeof SecretProvisioningService>> | undefined;
  let target = i % replicas.length;
  while (running) {
    try {
      if (client === undefined) {
        const r = replicas[target] as Replica;
        const { transport } = await withTimeout(
          createRaTlsGrpcTransport({ host: "127.0.0.1", port: r.port, credential, peerVerifier }),
          10_000,
        );
        client = createClient(SecretProvisioningService, transport);
      }
      const t = performance.now();
      await client.getSecrets({}, { signal: AbortSignal.timeout(10_000) });
      latenciesMs.push(performance.now() - t);
      released++;
    } catch (e) {
      count(kindOf(e));
      client = undefined;
      target = (target + 1) % replicas.length; // fail over to the other replica
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

async function writeClient(i: number): Promise<void> {
  let n = 0;
  let target = i % replicas.length;
  let admin: ReturnType<typeof connectAdmin> | undefined;
  while (running) {
    const r = replicas[target] as Replica;
    admin ??= connectAdmin(adminCredentials, { host: "127.0.0.1", port: r.adminPort });
    const name = `soak/w${i}-${n++}`;
    try {
      const { version } = await admin.putSecret(
        { name, value: new TextEncoder().encode(`${name}-value`) },
        { signal: AbortSignal.timeout(10_000) },
      );
      ackedWrites.push({ name, version });
    } catch (e) {
      count(`write:${kindOf(e)}`);
      admin = undefined;
      target = (target + 1) % replicas.length;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

// Whatever happens (an error, Ctrl-C), the replicas and the private cluster do not outlive the run.
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  running = false;
  for (const r of replicas) r.child?.kill("SIGKILL");
  try {
    asPostgres("pg_ctl", ["-D", pgData, "-m", "immediate", "-w", "stop"]);
  } catch {
    // already stopped
  }
  rmSync(work, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });

// ---- the run -----------------------------------------------------------------------------------
const events: string[] = [];
let exitCode = 0;
try {
  for (const r of replicas) await start(r);
  log(
    `replicas ready; ${CLIENTS} clients (${WRITERS} writing) for ${SECONDS} s, a SIGKILL every ${KILL_EVERY} s`,
  );
  const started = Date.now();
  const clients = [
    ...Array.from({ length: CLIENTS - WRITERS }, (_, i) => releaseClient(i)),
    ...Array.from({ length: WRITERS }, (_, i) => writeClient(i)),
  ];
  let kills = 0;
  let dbRestarted = false;
  // Kills on a fixed cadence from the start (t = 30 s, 60 s, …), whatever a restart takes.
  for (let next = KILL_EVERY * 1000; ; next += KILL_EVERY * 1000) {
    const wait = started + next - Date.now();
    if (next >= SECONDS * 1000) {
      await new Promise((res) => setTimeout(res, Math.max(0, started + SECONDS * 1000 - Date.now())));
      break;
    }
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const victim = replicas[kills % replicas.length] as Replica;
    victim.child?.kill("SIGKILL");
    kills++;
    const t = Date.now();
    await start(victim);
    events.push(
      `t=${Math.round((t - started) / 1000)}s SIGKILL replica ${victim.name}, ready again in ${Date.now() - t} ms`,
    );
    log(events.at(-1) as string);
    if (!dbRestarted && Date.now() - started >= (SECONDS * 1000) / 2) {
      const d = Date.now();
      // -l: the restarted server must not hold pg_ctl's stdout (spawnSync would wait on it).
      await asPostgresAsync("pg_ctl", [
        "-D",
        pgData,
        "-l",
        join(pgData, "server.log"),
        "-m",
        "fast",
        "-o",
        pgOptions,
        "-w",
        "restart",
      ]);
      dbRestarted = true;
      events.push(
        `t=${Math.round((d - started) / 1000)}s PostgreSQL restarted (fast), back in ${Date.now() - d} ms`,
      );
      log(events.at(-1) as string);
    }
  }
  running = false;
  await Promise.all(clients);
  const elapsed = (Date.now() - started) / 1000;
  for (const r of replicas) r.child?.kill("SIGTERM");
  await new Promise((res) => setTimeout(res, 1000));

  // ---- after the run: nothing acknowledged lost, the chain verifies --------------------------
  const store = await openStore(
    loadServiceConfig(dataDir, { databaseUrl: DB_URL, dbSchema: "keyward", simulation: true }, {}),
  );
  const chain = await verifyAuditLog(store);
  let auditedReleases = 0;
  for await (const e of auditEntries(store))
    if (e.action === "secrets.get" && e.outcome === "allowed") auditedReleases++;
  const stored = new Map((await store.listSecretVersions()).map((s) => [`${s.name}@${s.version}`, s]));
  const lostWrites = ackedWrites.filter((w) => !stored.has(`${w.name}@${w.version}`));
  await store.close();

  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  const report = {
    seconds: Math.round(elapsed),
    clients: CLIENTS,
    writers: WRITERS,
    replicaKills: kills,
    databaseRestarts: dbRestarted ? 1 : 0,
    releasesAnswered: released,
    releasesPerSecond: Math.round(released / elapsed),
    latencyMs: { p50: +q(0.5).toFixed(2), p99: +q(0.99).toFixed(2), max: +(sorted.at(-1) ?? 0).toFixed(2) },
    errorsByKind: Object.fromEntries([...errors].sort((a, b) => b[1] - a[1])),
    writesAcknowledged: ackedWrites.length,
    writesLost: lostWrites.length,
    releasesAudited: auditedReleases,
    releasesAcknowledgedWithoutAudit: Math.max(0, released - auditedReleases),
    auditChain: {
      ok: chain.ok,
      entries: chain.entries,
      head: chain.head,
      ...(chain.problem ? { problem: chain.problem } : {}),
    },
    events,
  };
  const crashed = events.filter((e) => e.includes("exited by itself")).length;
  const ok = chain.ok && lostWrites.length === 0 && auditedReleases >= released && crashed === 0;
  if (!ok) exitCode = 1;
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const out = (s: string) => process.stdout.write(`${s}\n`);
    out(
      `soak: ${report.seconds} s, ${CLIENTS} clients, ${kills} SIGKILLs, ${report.databaseRestarts} database restart`,
    );
    out(
      `  releases answered: ${released} (${report.releasesPerSecond}/s), p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
    );
    out(`  errors by kind: ${JSON.stringify(report.errorsByKind)}`);
    out(`  writes acknowledged ${ackedWrites.length}, lost ${lostWrites.length}`);
    out(`  releases audited ${auditedReleases} ≥ acknowledged ${released}: ${auditedReleases >= released}`);
    out(`  audit chain: ${chain.ok ? "verifies" : `BROKEN: ${chain.problem}`} (${chain.entries} entries)`);
    for (const e of events) out(`  ${e}`);
    out(ok ? "PASS" : "FAIL");
  }
} catch (e) {
  exitCode = 1;
  log(`failed: ${(e as Error).stack ?? String(e)}`);
} finally {
  cleanup();
}
process.exit(exitCode);
