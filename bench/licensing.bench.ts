/**
 * The licensing server (issue 14): logins per second against bare argon2id verification in the
 * same run (argon2id dominates a login; target ≥ 90 %), enclave bindings per second through the
 * TPM client (GetEnclaveBinding: reset, extend, quote and read PCR 23, over gRPC) against one
 * `tpm2_quote` process per quote, and launch-to-connected latency with the local launcher
 * (LaunchEnclave, GetEnclaveBinding for a fresh nonce, AK pinned, quote verified, pinned TLS
 * handshake), p50 and p99.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseTpm2bPublic } from "@keyward/attest/tpm";
import { initSimPlatform } from "@keyward/platform/sim";
import { startSwtpm } from "@keyward/platform/tpm";
import { createLogger, loadServiceConfig, runService } from "@keyward/server";
import { LicensingClient } from "@keyward/server/licensing-client";
import { hash, verify } from "@node-rs/argon2";
import { tpm2ToolsAk } from "./tpm2-tools.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "3");
const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? "20");

async function rate(run: () => Promise<unknown> | unknown, seconds = SECONDS): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    await run();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

const home = mkdtempSync(join(tmpdir(), "keyward-licensing-bench-"));
const tpm = await startSwtpm({ transport: "tcp" });
const toolTpm = await startSwtpm({ transport: "tcp" });
try {
  initSimPlatform(join(home, "sim"), { now: new Date() });
  const config = loadServiceConfig(
    home,
    {
      listen: "127.0.0.1:0",
      simulation: true,
      "licensing-listen": "127.0.0.1:0",
      "licensing-tpm": tpm.uri,
      "licensing-trial": `bench:3600:${LAUNCHES + 1}`,
    },
    {},
  );
  const service = await runService(config, createLogger(new Writable({ write: (_c, _e, cb) => cb() })));
  try {
    const caPem = readFileSync(join(home, "licensing", "tls.crt"), "utf8");
    const client = new LicensingClient({ host: "127.0.0.1", port: service.ports.licensingPort ?? 0, caPem });
    const password = randomBytes(18).toString("base64url");
    await client.signUp("bench", password);

    // 1. Logins vs the argon2id verification each contains (same parameters, a pepper of the same size).
    const params = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;
    const secret = randomBytes(32);
    const phc = await hash(password, { ...params, secret });
    // Interleaved, so that both see the same load on a shared machine.
    for (let i = 0; i < 3; i++) {
      await verify(phc, password, { secret });
      await client.login("bench", password);
    }
    let bareMs = 0;
    let loginMs = 0;
    let rounds = 0;
    const until = performance.now() + 2 * SECONDS * 1000;
    while (performance.now() < until) {
      const t0 = performance.now();
      await verify(phc, password, { secret });
      const t1 = performance.now();
      await client.login("bench", password);
      bareMs += t1 - t0;
      loginMs += performance.now() - t1;
      rounds++;
    }
    const bare = (rounds * 1000) / bareMs;
    const logins = (rounds * 1000) / loginMs;

    // 2. Bindings vs tpm2_quote.
    const [licence] = await client.licences();
    const enclave = await client.launch(licence?.id ?? "");
    const nonce = new Uint8Array(randomBytes(32));
    const bindings = await rate(() => client.binding(enclave.id, nonce));
    const akName = parseTpm2bPublic((await client.binding(enclave.id, nonce)).akPublic).name;
    await client.stop(enclave.id);
    const peer = tpm2ToolsAk(toolTpm.tcti);
    const hex = Buffer.from(nonce).toString("hex");
    const tools = await rate(() => peer.quote(hex));
    peer.close();

    // 3. Launch to a verified, pinned connection.
    const latencies: number[] = [];
    for (let i = 0; i < LAUNCHES; i++) {
      const t0 = performance.now();
      const e = await client.launch(licence?.id ?? "");
      const c = await client.connect(e.id, { kind: "pinned", names: [akName] });
      latencies.push(performance.now() - t0);
      c.socket.destroy();
      await client.stop(e.id);
    }
    latencies.sort((a, b) => a - b);

    console.log(
      `Licensing server (SQLite, swtpm over TCP, local launcher), ${SECONDS}s per cell, Node ${process.version}`,
    );
    console.log(`  bare argon2id verify (m=19456,t=2,p=1)  ${bare.toFixed(1).padStart(7)} /s`);
    console.log(`  Login over gRPC (verify + throttle + tokens) ${logins.toFixed(1).padStart(7)} /s`);
    console.log(
      `  ratio logins / bare argon2id           ${((logins / bare) * 100).toFixed(1).padStart(7)} %  (target ≥ 90 %)`,
    );
    console.log(
      `  GetEnclaveBinding (reset, extend, quote, read PCR 23; gRPC) ${bindings.toFixed(1).padStart(7)} /s`,
    );
    console.log(`  tpm2_quote + tpm2_flushcontext          ${tools.toFixed(1).padStart(7)} /s`);
    console.log(`  ratio bindings / tpm2_quote            ${(bindings / tools).toFixed(1).padStart(7)}×`);
    console.log(
      `  launch → verified pinned connection     p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms (n=${LAUNCHES}; p99 of ${LAUNCHES} is the slowest)`,
    );
  } finally {
    await service.shutdown();
  }
} finally {
  await tpm.stop();
  await toolTpm.stop();
  rmSync(home, { recursive: true, force: true });
}
