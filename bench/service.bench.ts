/**
 * Secret releases per second and latency (p50/p99) with concurrent attested clients, each on its
 * own mutual RA-TLS gRPC connection opened once (TLS sessions reused), against the service on
 * SQLite and on PostgreSQL (when 127.0.0.1:5432 answers); then KMS Sign and Decrypt. Every request
 * appends an audit entry. The service runs in this thread and the clients in worker threads.
 *
 * Every worker connects and warms its clients, then all start measuring together (a barrier) for
 * BENCH_SECONDS (default 5, as docs/performance.md states). Printed: releases/s and p99 at 8, 64,
 * 256 and 1,024 clients, and at 64 clients with 10, 10,000 and 100,000 policies in force (the
 * caller's policy last), with the ratio of the 100,000 figure to the 10 one (target ≥ 90 %).
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { createOrRotateKey } from "@keyward/server/admin";
import { openPostgresStore, openSqliteStore, type Store } from "@keyward/server/store";
import pg from "pg";
import { POLICY_READER } from "../packages/server/src/main.ts";
import { kmsClientAs, seedPolicy, startFixtureOn } from "../packages/server/test/service/helpers.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "5");
const PG_URL = process.env.KEYWARD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const WORKERS = Number(process.env.BENCH_CLIENT_THREADS ?? "2");
const QUICK = process.env.BENCH_QUICK !== undefined; // 64 clients and 10 policies only

interface Result {
  readonly lat: number[];
  readonly elapsed: number;
  readonly clients: number;
}

/** Runs `count` clients split over WORKERS threads, measuring together; gathers every latency. */
async function clients(job: Record<string, unknown>, count = 64): Promise<Result> {
  const workers = Array.from({ length: WORKERS }, (_, i) => {
    const w = new Worker(new URL("./workers/service-clients.ts", import.meta.url), {
      workerData: {
        ...job,
        clients: Math.floor(count / WORKERS) + (i < count % WORKERS ? 1 : 0),
        seconds: SECONDS,
      },
    });
    const messages: unknown[] = [];
    const waiting: ((m: unknown) => void)[] = [];
    w.on("message", (m) => {
      const next = waiting.shift();
      if (next === undefined) messages.push(m);
      else next(m);
    });
    const failed = new Promise<never>((_, reject) => w.once("error", reject));
    const next = () =>
      Promise.race([
        failed,
        messages.length > 0
          ? Promise.resolve(messages.shift())
          : new Promise<unknown>((resolve) => waiting.push(resolve)),
      ]);
    return { w, next };
  });
  await Promise.all(workers.map((x) => x.next())); // every worker connected and warm
  for (const x of workers) x.w.postMessage("go");
  const parts = (await Promise.all(workers.map((x) => x.next()))) as { lat: number[]; elapsed: number }[];
  return {
    lat: parts.flatMap((p) => p.lat),
    elapsed: Math.max(...parts.map((p) => p.elapsed)),
    clients: count,
  };
}

/** Prints one line; returns requests per second. */
function report(label: string, unit: string, r: Result): number {
  const lat = [...r.lat].sort((a, b) => a - b);
  const q = (p: number) => (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(1);
  const rate = lat.length / r.elapsed;
  console.log(
    `${label.padEnd(34)} ${rate.toFixed(0).padStart(6)} ${unit}/s  p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  (${r.clients} clients, ${lat.length} requests)`,
  );
  return rate;
}

/** `count` policies, the caller's (MRENCLAVE 0xc1…) last; the others pin other MRENCLAVEs. */
function policies(count: number) {
  const others = Array.from({ length: count - 1 }, (_, i) =>
    POLICY_READER.policy(
      {
        id: `other-${i}`,
        mr_enclave: randomBytes(32).toString("hex"),
        secrets: { master_key: "occlum/1/image_key" },
        platforms: ["simulated"],
      },
      `other-${i}.json`,
    ),
  );
  return [...others, seedPolicy("bench", 0xc1, { keys: { p256: ["sign"], aes: ["encrypt", "decrypt"] } })];
}

async function withFixture<T>(
  policyCount: number,
  open: (dir: string) => Promise<Store>,
  f: (fixture: Awaited<ReturnType<typeof startFixtureOn>>) => Promise<T>,
): Promise<T> {
  const fixture = await startFixtureOn(policies(policyCount), open);
  try {
    return await f(fixture);
  } finally {
    await fixture.service.close();
    await fixture.store.close();
    rmSync(fixture.dir, { recursive: true, force: true });
  }
}

async function run(label: string, open: (dir: string) => Promise<Store>) {
  await withFixture(10, open, async (f) => {
    const job = { dir: f.dir, port: f.service.port, op: "release" };
    report(`${label}, Connect`, "releases", await clients({ ...job, kind: "connect" }));
    const elu0 = performance.eventLoopUtilization();
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    report(`${label}, lean`, "releases", await clients({ ...job, kind: "lean" }));
    delay.disable();
    // How busy the service's thread was (1.00 = CPU-bound): handshakes in the worker count as idle time.
    console.log(
      `${"".padEnd(34)} service thread busy ${(performance.eventLoopUtilization(elu0).utilization * 100).toFixed(0)}% of the run; its event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`,
    );
    if (label !== "sqlite" || QUICK) return;
    for (const n of [8, 256, 1024])
      report(`${label}, lean`, "releases", await clients({ ...job, kind: "lean" }, n));
    await createOrRotateKey(f.store, f.masterKey, "p256", "P-256", "admin:bench");
    await createOrRotateKey(f.store, f.masterKey, "aes", "AES-256-GCM", "admin:bench");
    const kms = await kmsClientAs(f.platform, f.service.port, 0xc1);
    const { ciphertext } = await kms.encrypt({ keyId: "aes", plaintext: new Uint8Array(32) });
    report("kms Sign", "ops", await clients({ ...job, op: "sign", kind: "lean" }));
    report("kms Decrypt", "ops", await clients({ ...job, op: "decrypt", kind: "lean", ciphertext }));
  });
  if (label !== "sqlite" || QUICK) return;
  // Policies in force: the caller's is found through the index, not by scanning the others.
  const rates = new Map<number, number>();
  for (const count of [10, 10_000, 100_000])
    await withFixture(count, open, async (f) => {
      rates.set(
        count,
        report(
          `${label}, lean, ${count.toLocaleString("en")} policies`,
          "releases",
          await clients({ dir: f.dir, port: f.service.port, op: "release", kind: "lean" }),
        ),
      );
    });
  const ratio = (rates.get(100_000) ?? 0) / (rates.get(10) ?? 1);
  console.log(
    `${"".padEnd(34)} 100,000 policies / 10 policies: ${(ratio * 100).toFixed(0)} % (target ≥ 90 %)`,
  );
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
