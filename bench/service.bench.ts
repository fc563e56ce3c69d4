/**
 * Secret releases per second and latency (p50/p99) with 64 concurrent attested clients, each on its
 * own mutual RA-TLS gRPC connection opened once (TLS sessions reused), against the service on
 * SQLite and on PostgreSQL (when 127.0.0.1:5432 answers); then KMS Sign and Decrypt. Every request
 * appends an audit entry. The service runs in this thread and the clients in a worker thread, so
 * each has one of the machine's two cores, as a deployment with remote clients would.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { createOrRotateKey } from "@keyward/server/admin";
import { openPostgresStore, openSqliteStore, type Store } from "@keyward/server/store";
import pg from "pg";
import { kmsClientAs, seedPolicy, startFixtureOn } from "../packages/server/test/service/helpers.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "3");
const CLIENTS = 64;
const PG_URL = process.env.KEYWARD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

const WORKERS = Number(process.env.BENCH_CLIENT_THREADS ?? "2");

/** Runs the clients, split over WORKERS threads, and gathers every latency. */
async function clients(job: Record<string, unknown>): Promise<{ lat: number[]; elapsed: number }> {
  const parts = await Promise.all(
    Array.from({ length: WORKERS }, (_, i) => {
      const w = new Worker(new URL("./workers/service-clients.ts", import.meta.url), {
        workerData: {
          ...job,
          clients: Math.floor(CLIENTS / WORKERS) + (i < CLIENTS % WORKERS ? 1 : 0),
          seconds: SECONDS,
        },
      });
      return new Promise<{ lat: number[]; elapsed: number }>((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      });
    }),
  );
  return { lat: parts.flatMap((p) => p.lat), elapsed: Math.max(...parts.map((p) => p.elapsed)) };
}

function report(label: string, unit: string, r: { lat: number[]; elapsed: number }) {
  const lat = [...r.lat].sort((a, b) => a - b);
  const q = (p: number) => (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(1);
  console.log(
    `${label.padEnd(26)} ${(lat.length / r.elapsed).toFixed(0).padStart(6)} ${unit}/s  p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  (${CLIENTS} clients, ${lat.length} requests)`,
  );
}

async function run(label: string, open: (dir: string) => Promise<Store>) {
  const f = await startFixtureOn(
    [seedPolicy("bench", 0xc1, { keys: { p256: ["sign"], aes: ["encrypt", "decrypt"] } })],
    open,
  );
  report(
    `${label} (Connect clients)`,
    "releases",
    await clients({ dir: f.dir, port: f.service.port, op: "release", kind: "connect" }),
  );
  const elu0 = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  report(label, "releases", await clients({ dir: f.dir, port: f.service.port, op: "release", kind: "lean" }));
  delay.disable();
  // How busy the service's thread was (1.00 = CPU-bound): handshakes in the worker count as idle time.
  console.log(
    `${"".padEnd(26)} service thread busy ${(performance.eventLoopUtilization(elu0).utilization * 100).toFixed(0)}% of the run; its event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`,
  );
  if (label === "sqlite" && process.env.BENCH_ONLY_RELEASE === undefined) {
    await createOrRotateKey(f.store, f.masterKey, "p256", "P-256", "admin:bench");
    await createOrRotateKey(f.store, f.masterKey, "aes", "AES-256-GCM", "admin:bench");
    const kms = await kmsClientAs(f.platform, f.service.port, 0xc1);
    const { ciphertext } = await kms.encrypt({ keyId: "aes", plaintext: new Uint8Array(32) });
    report("kms Sign", "ops", await clients({ dir: f.dir, port: f.service.port, op: "sign" }));
    report(
      "kms Decrypt",
      "ops",
      await clients({ dir: f.dir, port: f.service.port, op: "decrypt", ciphertext }),
    );
  }
  await f.service.close();
  await f.store.close();
  rmSync(f.dir, { recursive: true, force: true });
}

await run("sqlite", async (dir) => openSqliteStore(dir));
const probe = new pg.Client({ connectionString: PG_URL });
try {
  await probe.connect();
  const schema = `kw_bench_${randomBytes(4).toString("hex")}`;
  try {
    await run("postgres", () => openPostgresStore({ connectionString: PG_URL, schema, poolSize: 16 }));
  } finally {
    await probe.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
} catch (e) {
  console.log(`postgres   skipped (${(e as Error).message})`);
} finally {
  await probe.end().catch(() => undefined);
}
process.exit(0);
