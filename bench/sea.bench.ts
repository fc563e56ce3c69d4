/**
 * The `keyward` single executable against `node` + sources: size on disk, and cold start of
 * `keyward --help` (which loads every command module to print their summaries), each started as
 * a new process, alternating so that load from other work on the machine falls on both alike.
 * Builds the executable first when it is not up to date (scripts/build-sea.ts).
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSea } from "../scripts/build-sea.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? "20");
const MiB = 2 ** 20;

const sea = await buildSea("keyward");
const bin = join(ROOT, "packages/cli/bin/keyward.ts");
const variants = {
  sea: [sea.path, ["--help"]],
  sources: [process.execPath, ["--disable-warning=ExperimentalWarning", bin, "--help"]],
} as const;

const times: Record<keyof typeof variants, number[]> = { sea: [], sources: [] };
for (let i = 0; i < RUNS + 2; i++) {
  for (const [name, [file, args]] of Object.entries(variants) as [
    keyof typeof variants,
    (typeof variants)["sea"],
  ][]) {
    const start = performance.now();
    const r = spawnSync(file, args, { stdio: ["ignore", "ignore", "pipe"] });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${name}: exit ${r.status}: ${r.stderr}`);
    if (i >= 2) times[name].push(ms); // two warm-up rounds fill the page cache
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const seaMs = median(times.sea);
const srcMs = median(times.sources);
const node = statSync(process.execPath).size;
console.log(
  `keyward single executable: ${(sea.bytes / MiB).toFixed(1)} MiB (the Node ${process.version} binary it`,
);
console.log(`  is made from: ${(node / MiB).toFixed(1)} MiB unstripped)`);
console.log(`cold start, keyward --help, median of ${RUNS}:`);
console.log(`  single executable   ${seaMs.toFixed(0)} ms`);
console.log(`  node + sources      ${srcMs.toFixed(0)} ms`);
console.log(`  ratio (sources / executable): ${(srcMs / seaMs).toFixed(1)}×`);
