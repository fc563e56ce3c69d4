/**
 * Secret releases per second and latency (p50/p99) with 64 concurrent attested clients, each on its
 * own mutual RA-TLS gRPC connection opened once (TLS sessions reused), against the service in-process
 * on SQLite and on PostgreSQL (when 127.0.0.1:5432 answers). Every release appends an audit entry.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createOrRotateKey, openPostgresStore, openSqliteStore, type Store } from "@keyward/server/service";
import pg from "pg";
import {
  clientAs,
  kmsClientAs,
  seedPolicy,
  startFixtureOn,
} from "../packages/server/test/service/helpers.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "3");
const CLIENTS = 64;
const PG_URL = process.env.KEYWARD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

async function run(label: string, open: (dir: string) => Promise<Store>) {
  const f = await startFixtureOn(
    [seedPolicy("bench", 0xc1, { keys: { p256: ["sign"], aes: ["encrypt", "decrypt"] } })],
    open,
  );
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () => clientAs(f.platform, f.service.port, 0xc1)),
  );
  for (const c of clients) await c.getSecrets({}); // warm-up
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        const t = performance.now();
        await c.getSecrets({});
        lat.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(1);
  console.log(
    `${label.padEnd(10)} ${(lat.length / elapsed).toFixed(0).padStart(6)} releases/s  p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  (${CLIENTS} clients, ${lat.length} releases)`,
  );
  if (label === "sqlite") {
    await createOrRotateKey(f.store, f.masterKey, "p256", "P-256", "admin:bench");
    await createOrRotateKey(f.store, f.masterKey, "aes", "AES-256-GCM", "admin:bench");
    const kms = await Promise.all(
      Array.from({ length: CLIENTS }, () => kmsClientAs(f.platform, f.service.port, 0xc1)),
    );
    const message = new Uint8Array(32);
    const { ciphertext } = await (kms[0] as (typeof kms)[number]).encrypt({
      keyId: "aes",
      plaintext: message,
    });
    for (const [op, call] of [
      ["Sign", (c: (typeof kms)[number]) => c.sign({ keyId: "p256", message })],
      ["Decrypt", (c: (typeof kms)[number]) => c.decrypt({ keyId: "aes", ciphertext })],
    ] as const) {
      let n = 0;
      const stop = performance.now() + SECONDS * 1000;
      const t0 = performance.now();
      await Promise.all(
        kms.map(async (c) => {
          while (performance.now() < stop) {
            await call(c);
            n++;
          }
        }),
      );
      console.log(
        `${`kms ${op}`.padEnd(10)} ${(n / ((performance.now() - t0) / 1000)).toFixed(0).padStart(6)} ops/s (P-256 / AES-256-GCM, ${CLIENTS} clients, audited)`,
      );
    }
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
