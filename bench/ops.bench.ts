/**
 * What observing a request costs: the kernel wraps every RPC in `requestObserver.observe` (the
 * request's record in AsyncLocalStorage, its JSON log line through pino, its counter and latency
 * histogram in prom-client). Measured here on a request that does nothing else (an awaited no-op),
 * as microseconds per request against the same no-op run bare (docs/performance.md sets it against
 * the service's releases per second); the log line goes to a stream that discards it (the
 * serialization is paid, the I/O is not). Rounds alternate
 * (bare, observed) so machine load falls on both alike; medians are printed. Then one scrape of
 * /metrics (the registry rendered) after those requests.
 */
import { Writable } from "node:stream";
import { requestObserver } from "../packages/server/src/kernel/requests.ts";
import { createLogger } from "../packages/server/src/ops/logs.ts";
import { Metrics } from "../packages/server/src/ops/metrics.ts";

const N = Number(process.env.BENCH_OPS_REQUESTS ?? "50000");
const ROUNDS = 5;
const sink = new Writable({ write: (_c, _e, cb) => cb() });
const metrics = new Metrics();
const observer = requestObserver(createLogger(sink, "info"), metrics);
const headers = new Headers();
const methods = ["keyward.v1.SecretProvisioningService/GetSecrets", "keyward.v1.KeyManagementService/Sign"];
const work = async () => 1;

async function bare(): Promise<number> {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await work();
  return Number(process.hrtime.bigint() - t) / 1e3 / N;
}

async function observed(): Promise<number> {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++)
    await observer.observe({ listener: "service", method: methods[i & 1] as string, headers }, work);
  return Number(process.hrtime.bigint() - t) / 1e3 / N;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const b: number[] = [];
const o: number[] = [];
await observed(); // warm up
for (let r = 0; r < ROUNDS; r++) {
  b.push(await bare());
  o.push(await observed());
}
const cost = median(o) - median(b);
const t = process.hrtime.bigint();
const text = await metrics.render();
const renderMs = Number(process.hrtime.bigint() - t) / 1e6;
console.log(
  `request observation (log line + counter + histogram + AsyncLocalStorage), ${N} requests × ${ROUNDS} rounds`,
);
console.log(`  bare no-op ${median(b).toFixed(2)} µs/request, observed ${median(o).toFixed(2)} µs/request`);
console.log(`  observation cost: ${cost.toFixed(2)} µs per request`);
console.log(`  /metrics render: ${renderMs.toFixed(2)} ms for ${text.length} bytes`);
