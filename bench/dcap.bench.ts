/**
 * DCAP verification throughput: Keyward cold (a fresh verifier and freshly parsed collateral per
 * quote), Keyward warm (one verifier: collateral, certificates and signature results cached), and
 * the peer @phala/dcap-qvl 0.3.9, on the same real quotes and collateral at the same time.
 */
import { createRequire } from "node:module";
import { createDcapVerifier, parseCollateralJson, verifyDcapQuote } from "@keyward/attest/dcap";
import { dcapVectors } from "../packages/attest/test/dcap-vectors.ts";

const require = createRequire(import.meta.url);
const phala = require("@phala/dcap-qvl") as { verify(q: Uint8Array, c: unknown, nowSecs: number): unknown };

const SECONDS = Number(process.env.BENCH_SECONDS ?? "1.5");
// The vectors dcap-qvl 0.3.9 accepts (it rejects automata-tdx-v5 by its own policy and throws on
// the two TCB_NOT_SUPPORTED vectors), so that every implementation does the same work.
const names = [
  "phala-sgx-v3",
  "automata-sgx-v3",
  "phala-tdx-v4",
  "automata-tdx-v4",
  "gotdx-tdx-v4-cos113",
  "gotdx-tdx-v5",
];
const vectors = dcapVectors().filter((v) => names.includes(v.name));

async function rate(run: () => unknown): Promise<number> {
  for (let i = 0; i < 20; i++) await run(); // warm-up: JIT, and the caches of the warm case
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await run();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const rows: { name: string; cold: number; warm: number; peer: number }[] = [];
for (const v of vectors) {
  const collateral = parseCollateralJson(v.collateralText);
  const phalaCollateral = JSON.parse(v.collateralText);
  const nowSecs = Math.floor(v.at.getTime() / 1000);
  const warmVerifier = createDcapVerifier();
  const cold = await rate(() =>
    verifyDcapQuote(v.quote, parseCollateralJson(v.collateralText), { at: v.at }),
  );
  const warm = await rate(() => warmVerifier.verify(v.quote, collateral, v.at));
  const peer = await rate(() => phala.verify(v.quote, phalaCollateral, nowSecs));
  rows.push({ name: v.name, cold, warm, peer });
}

const f = (x: number) => x.toFixed(0).padStart(8);
const r = (x: number) => `${x.toFixed(1)}×`.padStart(8);
console.log(`DCAP verifications per second (${SECONDS}s per cell, one thread, Node ${process.version})`);
console.log(
  `${"vector".padEnd(22)} ${"cold".padStart(8)} ${"warm".padStart(8)} ${"dcap-qvl".padStart(8)} ${"cold/peer".padStart(9)} ${"warm/peer".padStart(9)}`,
);
for (const x of rows)
  console.log(
    `${x.name.padEnd(22)} ${f(x.cold)} ${f(x.warm)} ${f(x.peer)} ${r(x.cold / x.peer)} ${r(x.warm / x.peer)}`,
  );
const g = (k: "cold" | "warm" | "peer") =>
  Math.exp(rows.reduce((s, x) => s + Math.log(x[k]), 0) / rows.length);
console.log(
  `${"geometric mean".padEnd(22)} ${f(g("cold"))} ${f(g("warm"))} ${f(g("peer"))} ${r(g("cold") / g("peer"))} ${r(g("warm") / g("peer"))}`,
);
const mem = process.memoryUsage();
console.log(
  `memory after the run: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`,
);
