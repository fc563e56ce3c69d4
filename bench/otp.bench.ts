/**
 * One-time passwords:
 *
 * 1. Single-use verifications per second with 64 concurrent callers, on SQLite and on PostgreSQL
 *    (when 127.0.0.1:5432 answers), as a ratio to bare conditional UPDATEs
 *    (`UPDATE otp_accounts SET last_step = ? WHERE name = ? AND last_step < ?`) with the same
 *    durability — the same store, connection and settings — in the same run (target ≥ 50 %). A
 *    verification is the service's verifier: the code matched within ±1 step (HMAC, constant-time
 *    comparison), then accepted by its one conditional UPDATE (the watermark, lockouts, the client's
 *    lockout). Every measured verification is of a fresh, valid code and must be accepted. Rounds of
 *    each kind alternate, one TOTP time step apart (a settable clock), so load on the machine falls
 *    on both alike; medians are printed.
 * 2. otpqr's cold start as the single executable and as `node` + sources: `otpqr --help`, and a
 *    launch under the simulated launcher up to its first connection (attestation, RA-TLS
 *    certificate, a refused connection), each a new process, alternating.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initSimPlatform } from "@keyward/platform/sim";
import { openPostgresStore, openSqliteStore, type Store } from "@keyward/server/store";
import pg from "pg";
import { otpAccounts } from "../packages/server/src/features/otp/accounts.ts";
import { totpCode } from "../packages/server/src/features/otp/totp.ts";
import { otpVerifier } from "../packages/server/src/features/otp/verifier.ts";
import { FEATURE_MIGRATIONS } from "../packages/server/src/main.ts";
import { buildSea } from "../scripts/build-sea.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PG_URL = process.env.KEYWARD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const CALLERS = 64;
const ACCOUNTS = Number(process.env.BENCH_OTP_ACCOUNTS ?? "1024");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "5");
const RUNS = Number(process.env.BENCH_RUNS ?? "10");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Runs `work(i)` for i in 0..n-1 with CALLERS concurrent callers; returns operations per second. */
async function concurrently(n: number, work: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      for (let i = next++; i < n; i = next++) await work(i);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function verifications(engine: string, open: () => Promise<Store>): Promise<void> {
  const store = await open();
  try {
    const key = new Uint8Array(randomBytes(32));
    let nowMs = Math.floor(Date.now() / 30_000) * 30_000 + 10_000; // 10 s into a step
    const now = () => new Date(nowMs);
    const accounts = otpAccounts(store, () => key, now);
    const names = Array.from({ length: ACCOUNTS }, (_, i) => `bench-${i}`);
    const secrets: Uint8Array[] = [];
    for (const name of names) {
      await accounts.create("admin:bench", { name, issuer: "Bench" });
      secrets.push((await accounts.consumeEnrollment(name, "bench")).secret);
    }
    const verifier = otpVerifier(store.sql, () => key, now, {
      maxFailures: 5,
      clientMaxFailures: 20,
      lockoutSeconds: 30,
    });
    const p = { algorithm: "SHA1", digits: 6, period: 30 } as const;
    const otpRound = async () => {
      const codes = secrets.map((s) => totpCode(s, p, nowMs));
      const rate = await concurrently(ACCOUNTS, async (i) => {
        const accepted = await verifier.verify(
          { account: names[i] as string, code: codes[i] as string },
          { clientAddress: "10.0.0.1" },
        );
        if (accepted.step !== Math.floor(nowMs / 30_000)) throw new Error("accepted another step");
      });
      nowMs += 30_000;
      return rate;
    };
    let floorStep = 1e12; // far above any TOTP step: the floor's rows never meet the verifier's
    const floorRound = async () => {
      const step = ++floorStep;
      const rate = await concurrently(ACCOUNTS, async (i) => {
        const r = await store.sql.get(
          "UPDATE otp_accounts SET last_step = ? WHERE name = ? AND last_step < ? RETURNING name",
          [step, names[i] as string, step],
        );
        if (r === undefined) throw new Error("the floor's UPDATE changed nothing");
      });
      return rate;
    };
    await otpRound(); // warm: every account's secret unwrapped and cached, statements prepared
    await floorRound();
    // The floor's watermark is above every TOTP step: put it back below before the measured rounds.
    await store.sql.run("UPDATE otp_accounts SET last_step = ?", [Math.floor(nowMs / 30_000) - 1]);
    floorStep = 1e12;
    const otp: number[] = [];
    const floor: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      otp.push(await otpRound());
      const before = Math.floor(nowMs / 30_000) - 1;
      floor.push(await floorRound());
      await store.sql.run("UPDATE otp_accounts SET last_step = ?", [before]);
    }
    const o = median(otp);
    const f = median(floor);
    console.log(
      `${engine.padEnd(10)} single-use OTP verifications ${o.toFixed(0).padStart(7)}/s   bare conditional UPDATEs ${f.toFixed(0).padStart(7)}/s   ratio ${((o / f) * 100).toFixed(0)} % (target ≥ 50 %)`,
    );
  } finally {
    await store.close();
  }
}

async function coldStart(): Promise<void> {
  const sea = await buildSea("otpqr");
  const home = mkdtempSync(join(tmpdir(), "keyward-bench-otpqr-"));
  try {
    initSimPlatform(join(home, "sim"), { now: new Date() });
    // A port nobody listens on: the app attests, makes its certificate, and is refused.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const bin = join(ROOT, "examples/otpqr/bin/otpqr.ts");
    let n = 0;
    const launch = () => [
      "--account",
      "bench",
      "--server",
      `127.0.0.1:${closed}`,
      "--format",
      "svg",
      "--out",
      join(home, `out-${n}.svg`),
      "--data-dir",
      home,
      "--state-dir",
      join(home, `state-${n++}`),
    ];
    const kinds = {
      help: (sea: boolean) => (sea ? ["--help"] : [bin, "--help"]),
      launch: (sea: boolean) => (sea ? launch() : [bin, ...launch()]),
    };
    for (const [kind, args] of Object.entries(kinds)) {
      const times = { sea: [] as number[], sources: [] as number[] };
      for (let i = 0; i < RUNS + 2; i++) {
        for (const variant of ["sea", "sources"] as const) {
          const file = variant === "sea" ? sea.path : process.execPath;
          const argv =
            variant === "sea"
              ? args(true)
              : ["--disable-warning=ExperimentalWarning", "--conditions=keyward-source", ...args(false)];
          const start = performance.now();
          const r = spawnSync(file, argv, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
          const ms = performance.now() - start;
          const expected = kind === "help" ? 0 : 2; // launch: ERR_IO, the connection refused
          if (r.status !== expected || (kind === "launch" && !r.stderr.includes("otpqr: ERR_IO")))
            throw new Error(`otpqr ${kind} (${variant}): exit ${r.status}: ${r.stderr}`);
          if (i >= 2) times[variant].push(ms);
        }
      }
      const s = median(times.sea);
      const src = median(times.sources);
      const what = kind === "help" ? "otpqr --help" : "otpqr launched to its first connection";
      console.log(
        `cold start, ${what.padEnd(38)} single executable ${s.toFixed(0).padStart(5)} ms   node + sources ${src.toFixed(0).padStart(5)} ms   ${(src / s).toFixed(1)}×`,
      );
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const dir = mkdtempSync(join(tmpdir(), "keyward-bench-otp-"));
try {
  await verifications("sqlite", () => openSqliteStore(dir, { migrations: FEATURE_MIGRATIONS }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const probe = new pg.Client({ connectionString: PG_URL });
try {
  await probe.connect();
  const schema = `kw_bench_${randomBytes(4).toString("hex")}`;
  try {
    await verifications("postgres", () =>
      openPostgresStore({ connectionString: PG_URL, schema, poolSize: 16, migrations: FEATURE_MIGRATIONS }),
    );
  } finally {
    await probe.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
} catch (e) {
  console.log(`postgres   skipped (${(e as Error).message})`);
} finally {
  await probe.end().catch(() => undefined);
}
await coldStart();
process.exit(0);
