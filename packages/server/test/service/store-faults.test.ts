/**
 * Fault injection for the store (../shared/cases/store-write-failure-silent): a read-only database
 * file (chattr +i, which binds root too), a full file system (a small tmpfs), the database file
 * removed under a running service, and PostgreSQL stopped and restarted (a private cluster made by
 * this test with initdb and pg_ctl on a free port: the shared server is never touched). For each:
 * writes fail with ERR_STORE_UNAVAILABLE naming the cause, the log says so, /readyz answers 503
 * while the store cannot commit and 200 again once it can, without a restart, and every
 * acknowledged write is still there afterwards.
 *
 * Needs root (chattr, mount, runuser); each part that cannot run here is skipped saying why.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { initSimPlatform, loadSimPlatform } from "@keyward/platform/sim";
import pino from "pino";
import { fromConnectError } from "../../src/errors/connect.ts";
import { sealSecret } from "../../src/kernel/envelope.ts";
import { loadServiceConfig, openStore, type RunningKeyward, runService } from "../../src/main.ts";
import { clientAs, hex, mr } from "./helpers.ts";

const root = mkdtempSync(join(tmpdir(), "keyward-store-faults-"));
const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      // best effort
    }
  }
  rmSync(root, { recursive: true, force: true });
});

const can = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
const isRoot = process.getuid?.() === 0;

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  return { logger: pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) }), lines };
}

function dataDir(parent = root): string {
  const dir = mkdtempSync(join(parent, "d-"));
  initSimPlatform(join(dir, "sim"), { now: new Date() });
  return dir;
}

async function start(dir: string, flags: Record<string, string | boolean> = {}) {
  const { logger, lines } = recordingLogger();
  const config = loadServiceConfig(
    dir,
    { listen: "127.0.0.1:0", opsListen: "127.0.0.1:0", simulation: true, ...flags },
    {},
  );
  const running = await runService(config, logger);
  const opsPort = (lines.find((l) => l.event === "listening")?.opsPort ?? 0) as number;
  return { running, lines, readyz: () => readyz(opsPort) };
}

async function readyz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

let n = 0;
const KEY = new Uint8Array(32).fill(7);
/** Puts a secret; resolves with its name when acknowledged, or rejects with the store's error. */
async function put(running: RunningKeyward): Promise<string> {
  const name = `s${++n}`;
  await running.store.putSecret(name, (v) => sealSecret(KEY, name, v, new TextEncoder().encode("value")), {
    action: "secret.put",
    outcome: "ok",
    subject: "admin:test",
  });
  return name;
}

async function until(f: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never: ${what}`);
}

/** Checks the whole fault cycle on a running service: `inject` breaks the store, `repair` mends it. */
async function faultCycle(
  s: Awaited<ReturnType<typeof start>>,
  inject: () => void,
  repair: () => void,
  cause: RegExp,
  whileDown?: () => Promise<void>,
): Promise<string[]> {
  const acknowledged = [await put(s.running)];
  assert.equal(await s.readyz(), 200);
  inject();
  await assert.rejects(put(s.running), (e: Error & { code?: string }) => {
    assert.equal(e.code, "ERR_STORE_UNAVAILABLE");
    assert.match(e.message, cause);
    return true;
  });
  const logged = s.lines.filter((l) => l.event === "store.unavailable");
  assert.ok(logged.length > 0, "the failure is logged");
  assert.match(String(logged.at(-1)?.cause), cause);
  assert.ok(!JSON.stringify(logged).includes("ciphertext"));
  await until(async () => (await s.readyz()) === 503, "/readyz 503 while the store cannot commit");
  await whileDown?.();
  repair();
  await until(async () => (await s.readyz()) === 200, "/readyz 200 once the store commits again");
  assert.ok(s.lines.some((l) => l.event === "store.recovered"));
  acknowledged.push(await put(s.running));
  return acknowledged;
}

async function assertKept(dir: string, names: readonly string[], flags: Record<string, string> = {}) {
  const config = loadServiceConfig(dir, { simulation: true, ...flags }, {});
  const store = await openStore(config);
  try {
    for (const name of names) assert.ok(await store.getSecret(name), `acknowledged ${name} is kept`);
  } finally {
    await store.close();
  }
}

describe("store faults are loud, reported and recovered from", { concurrency: false }, () => {
  it("refuses to start on a read-only database, naming the cause", {
    skip: !isRoot || !can("which", ["chattr"]),
  }, async (t) => {
    const dir = dataDir();
    const first = await start(dir);
    await first.running.shutdown();
    const db = join(dir, "keyward.db");
    if (!can("chattr", ["+i", db])) return t.skip("chattr +i is not supported on this file system");
    cleanups.push(() => execFileSync("chattr", ["-i", db]));
    const { logger, lines } = recordingLogger();
    const config = loadServiceConfig(dir, { listen: "127.0.0.1:0", simulation: true }, {});
    await assert.rejects(runService(config, logger), (e: Error & { code?: string }) => {
      assert.equal(e.code, "ERR_STORE_UNAVAILABLE");
      assert.match(e.message, /SQLITE_READONLY/);
      return true;
    });
    assert.ok(lines.some((l) => l.event === "store.unavailable"));
    execFileSync("chattr", ["-i", db]);
  });

  it("a database made read-only under a running service (chattr +i on the file and its WAL)", {
    skip: !isRoot || !can("which", ["chattr"]),
  }, async (t) => {
    const dir = dataDir();
    const s = await start(dir);
    const files = ["keyward.db", "keyward.db-wal"].map((f) => join(dir, f));
    try {
      if (!can("chattr", ["+i", files[0] as string])) return t.skip("chattr +i is not supported here");
      execFileSync("chattr", ["-i", files[0] as string]);
      cleanups.push(() => execFileSync("chattr", ["-i", ...files]));
      const kept = await faultCycle(
        s,
        () => execFileSync("chattr", ["+i", ...files]),
        () => execFileSync("chattr", ["-i", ...files]),
        /SQLITE_(READONLY|IOERR|CANTOPEN|PERM)|cannot be used/,
      );
      await s.running.shutdown();
      await assertKept(dir, kept);
    } finally {
      await s.running.shutdown().catch(() => undefined);
    }
  });

  it("a full file system (a 2 MiB tmpfs, filled)", { skip: !isRoot }, async (t) => {
    const mnt = join(root, "tmpfs");
    mkdirSync(mnt);
    if (!can("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]))
      return t.skip("mounting a tmpfs is not permitted here");
    cleanups.push(() => execFileSync("umount", ["-l", mnt]));
    const dir = dataDir(mnt);
    const s = await start(dir);
    const filler = join(mnt, "filler");
    try {
      const kept = await faultCycle(
        s,
        () => {
          // Fill every free block; then a write needs pages the disk no longer has.
          spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4096"], { stdio: "ignore" });
        },
        () => rmSync(filler),
        /SQLITE_FULL|SQLITE_IOERR|ENOSPC/,
      );
      await s.running.shutdown();
      await assertKept(dir, kept);
    } finally {
      await s.running.shutdown().catch(() => undefined);
    }
  });

  it("the database file removed under a running service: writes refused, not acknowledged into the unlinked file", async () => {
    const dir = dataDir();
    mkdirSync(join(dir, "policies"));
    writeFileSync(
      join(dir, "policies", "app.json"),
      JSON.stringify({ id: "app", platforms: ["simulated"], mrEnclave: hex(mr(0xb1)), secrets: { s: "s1" } }),
    );
    const s = await start(dir);
    const db = join(dir, "keyward.db");
    const platform = loadSimPlatform(join(dir, "sim"));
    try {
      const kept = await faultCycle(
        s,
        () => renameSync(db, `${db}.away`),
        () => renameSync(`${db}.away`, db),
        /was removed or replaced/,
        async () => {
          // A workload's release cannot be audited: it is refused as UNAVAILABLE, never released.
          const workload = await clientAs(platform, s.running.port, 0xb1);
          await assert.rejects(workload.getSecrets({ names: ["s"] }), (e: unknown) => {
            assert.equal((e as { code?: number }).code, Code.Unavailable);
            assert.equal(fromConnectError(e).code, "ERR_STORE_UNAVAILABLE");
            return true;
          });
        },
      );
      assert.ok(!existsSync(`${db}.away`));
      await s.running.shutdown();
      await assertKept(dir, kept);
    } finally {
      await s.running.shutdown().catch(() => undefined);
    }
  });

  it("PostgreSQL stopped and restarted (a private cluster on a free port)", async (t) => {
    const bin = ["18", "17", "16", "15", "14", "13"]
      .map((v) => `/usr/lib/postgresql/${v}/bin`)
      .find((b) => existsSync(join(b, "initdb")));
    if (bin === undefined) return t.skip("no PostgreSQL server binaries (initdb, pg_ctl) here");
    if (!isRoot && process.getuid?.() === undefined) return t.skip("cannot tell the user");
    // initdb refuses root: the cluster belongs to the postgres user when we are root.
    const as = (cmd: string, args: string[]) =>
      isRoot
        ? execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "pipe" })
        : execFileSync(cmd, args, { stdio: "pipe" });
    const pgdir = mkdtempSync(join(tmpdir(), "keyward-pg-"));
    if (isRoot) execFileSync("chown", ["postgres", pgdir]);
    cleanups.push(() => rmSync(pgdir, { recursive: true, force: true }));
    const port = await new Promise<number>((r) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => r(p));
      });
    });
    const data = join(pgdir, "data");
    as(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
    const pgStart = () =>
      as(join(bin, "pg_ctl"), [
        "-D",
        data,
        "-l",
        join(pgdir, "log"),
        "-w",
        "-o",
        `-p ${port} -k ${pgdir} -c listen_addresses=127.0.0.1`,
        "start",
      ]);
    const pgStop = () => as(join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
    pgStart();
    cleanups.push(
      () =>
        void spawnSync("runuser", [
          "-u",
          "postgres",
          "--",
          join(bin, "pg_ctl"),
          "-D",
          data,
          "-m",
          "immediate",
          "stop",
        ]),
    );
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const dir = dataDir();
    const s = await start(dir, { databaseUrl: url });
    try {
      const kept = await faultCycle(
        s,
        pgStop,
        pgStart,
        /PostgreSQL 57P01|cannot be reached|connection was lost|PostgreSQL 08/,
      );
      await s.running.shutdown();
      await assertKept(dir, kept, { databaseUrl: url });
    } finally {
      await s.running.shutdown().catch(() => undefined);
    }
  });
});
