/**
 * The client side of the service benchmark, run in a worker thread so that the clients' TLS and
 * gRPC work uses the machine's other core instead of the service's. Receives {dir, port, clients,
 * seconds, op}; replies with every request's latency in milliseconds.
 */
import { join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { loadSimPlatform } from "@keyward/platform/sim";
import { clientAs, kmsClientAs } from "../../packages/server/test/service/helpers.ts";

interface Job {
  readonly dir: string;
  readonly port: number;
  readonly clients: number;
  readonly seconds: number;
  readonly op: "release" | "sign" | "decrypt";
  readonly ciphertext?: Uint8Array;
}

const job = workerData as Job;
const platform = loadSimPlatform(join(job.dir, "sim"));
const message = new Uint8Array(32);
const calls: (() => Promise<unknown>)[] = await Promise.all(
  Array.from({ length: job.clients }, async () => {
    if (job.op === "release") {
      const c = await clientAs(platform, job.port, 0xc1);
      return () => c.getSecrets({});
    }
    const k = await kmsClientAs(platform, job.port, 0xc1);
    return job.op === "sign"
      ? () => k.sign({ keyId: "p256", message })
      : () => k.decrypt({ keyId: "aes", ciphertext: job.ciphertext ?? new Uint8Array() });
  }),
);
for (const call of calls) await call(); // handshakes and warm-up outside the measurement
const lat: number[] = [];
const trace: [number, number][] = [];
const start = performance.now();
const end = start + job.seconds * 1000;
await Promise.all(
  calls.map(async (call) => {
    while (performance.now() < end) {
      const t = performance.now();
      await call();
      lat.push(performance.now() - t);
      if (process.env.BENCH_TRACE) trace.push([t - start, performance.now() - t]);
    }
  }),
);
if (process.env.BENCH_TRACE) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(`${process.env.BENCH_TRACE}.${process.pid}.${Math.random()}`, JSON.stringify(trace));
}
parentPort?.postMessage({ lat, elapsed: (performance.now() - start) / 1000 });
process.exit(0);
