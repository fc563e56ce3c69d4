import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], { encoding: "utf8" });
const dir = mkdtempSync(join(tmpdir(), "keyward-main-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("keyward command tree", () => {
  it("runs as npm links it (bin/keyward.js) in a checkout without a build, without the source condition", () => {
    // Scripts and tools call node_modules/.bin/keyward directly, not through npm or npx, so Node
    // gets no --conditions=keyward-source from .npmrc; the bin must still run the command.
    const linked = fileURLToPath(new URL("../bin/keyward.js", import.meta.url));
    const v = fileURLToPath(new URL("../../attest/test/vectors/dcap/automata-sgx-v3/", import.meta.url));
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.npm_config_node_options;
    const args = [
      linked,
      "quote",
      "verify",
      join(v, "quote.bin"),
      "--collateral",
      join(v, "collateral.json"),
    ];
    const r = spawnSync(process.execPath, [...args, "--at", "2025-08-15T05:45:00Z", "--json"], {
      encoding: "utf8",
      env,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).tcbStatus, "SWHardeningNeeded");
    const version = spawnSync(process.execPath, [linked, "--version"], { encoding: "utf8", env });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^keyward \d+\.\d+\.\d+/);
  });

  it("serves as npm links it, without the source condition: worker threads (the audit writer) resolve too", async () => {
    // The hook bin/keyward.js registers covers its main thread only; a worker must get the
    // condition from startThread, or every audited call fails with ERR_INTERNAL.
    const linked = fileURLToPath(new URL("../bin/keyward.js", import.meta.url));
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.npm_config_node_options;
    const data = join(dir, "linked-serve");
    assert.equal(keyward("sim", "init", "--data-dir", data).status, 0);
    assert.equal(keyward("admin", "init", "--data-dir", data).status, 0);
    const flags = ["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0"];
    const serve = spawn(process.execPath, [linked, "serve", "--simulation", "--data-dir", data, ...flags], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const adminPort = await new Promise<number>((resolve, reject) => {
        let out = "";
        serve.stdout.setEncoding("utf8").on("data", (d: string) => {
          out += d;
          const m = /"event":"listening".*"adminPort":(\d+)/.exec(out);
          if (m?.[1] !== undefined) resolve(Number(m[1]));
        });
        serve.on("exit", (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const value = join(dir, "linked-value");
      writeFileSync(value, "v");
      const admin = ["--admin", `127.0.0.1:${adminPort}`, "--data-dir", data, "--json"];
      const put = spawnSync(
        process.execPath,
        [linked, "admin", "put-secret", "x", "--value-file", value, ...admin],
        {
          encoding: "utf8",
          env,
        },
      );
      assert.equal(put.status, 0, put.stdout + put.stderr);
      // An OTP verification is audited through the writer thread: a wrong code is ERR_OTP_INVALID
      // (exit 1), never ERR_INTERNAL (exit 70, "the audit writer thread stopped").
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [linked, ...args, ...admin], { encoding: "utf8", env });
      const account = run("admin", "otp", "create-account", "ops", "--issuer", "Test");
      assert.equal(account.status, 0, account.stdout + account.stderr);
      const wrong = run("otp", "verify", "--account", "ops", "--code", "000000");
      assert.equal(wrong.status, 1, wrong.stdout + wrong.stderr);
      assert.equal(JSON.parse(wrong.stdout).error.code, "ERR_OTP_INVALID");
      const audit = run("audit", "verify");
      assert.equal(audit.status, 0, audit.stdout + audit.stderr);
      assert.ok(JSON.parse(audit.stdout).entries >= 3, audit.stdout);
    } finally {
      serve.kill("SIGTERM");
    }
  });

  it("exits 2 on an unknown command and lists the commands", () => {
    const r = keyward("no-such-command");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command/);
    assert.match(r.stderr, /explain/);
  });

  it("exits 2 without a command and 0 with --help", () => {
    assert.equal(keyward().status, 2);
    const help = keyward("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /usage: keyward/);
  });

  it("explains an error code, and rejects an unknown one", () => {
    const ok = keyward("explain", "ERR_BYTES_TRUNCATED");
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /^ERR_BYTES_TRUNCATED: /);
    assert.equal(keyward("explain", "ERR_NOPE").status, 2);
  });

  it("runs the demo: real and simulated quotes reach their expected verdicts (--json)", () => {
    const r = keyward("demo", "--json");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.failures, 0);
    assert.ok(out.steps.filter((s: { ok?: boolean }) => s.ok === true).length >= 15);
    assert.ok(out.steps.some((s: { text: string }) => s.text === "all verdicts as expected"));
  });

  // ../shared/cases/input-devzero: a symlink to /dev/zero once made `quote inspect` read until
  // memory ran out. A real process, a generous bound: it must end at once, ERR_IO, exit 2.
  it("refuses a quote path that links to /dev/zero at once (ERR_IO, exit 2)", async () => {
    const link = join(dir, "quote.bin");
    symlinkSync("/dev/zero", link);
    const child = spawn(process.execPath, [
      "--disable-warning=ExperimentalWarning",
      bin,
      "quote",
      "inspect",
      link,
      "--json",
    ]);
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.on("exit", (c, s) => r([c, s])),
    );
    clearTimeout(timer);
    assert.equal(signal, null, "not killed by the time bound");
    assert.equal(code, 2);
    assert.equal(JSON.parse(stdout).error.code, "ERR_IO");
  });

  it("refuses an empty or over-limit secret value before contacting the service", () => {
    // The Admin address answers nothing: had the value been sent, the failure would be a connection error.
    const admin = ["--admin", "127.0.0.1:1", "--data-dir", dir];
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    const r = keyward("admin", "put-secret", "a", "--value-file", empty, ...admin, "--json");
    assert.equal(r.status, 2);
    assert.equal(JSON.parse(r.stdout).error.code, "ERR_USAGE");
    assert.match(r.stderr, /empty.*--allow-empty/);
    const big = join(dir, "big");
    writeFileSync(big, "");
    truncateSync(big, (1 << 20) + 1);
    const over = keyward("admin", "put-secret", "a", "--value-file", big, ...admin, "--json");
    assert.equal(over.status, 2);
    assert.equal(JSON.parse(over.stdout).error.code, "ERR_IO");
    assert.match(over.stderr, /larger than the 1048576-byte limit/);
    // With --allow-empty the empty value goes on to the service (here: none answers).
    const allowed = keyward(
      "admin",
      "put-secret",
      "a",
      "--value-file",
      empty,
      "--allow-empty",
      ...admin,
      "--json",
    );
    assert.notEqual(JSON.parse(allowed.stdout).error.code, "ERR_USAGE");
  });

  // ../shared/cases/serve-port-in-use-hangs: a port in use once printed "internal error" and, with a
  // policy directory (its watcher never closed), the process never exited. The binary has no exit
  // timer of its own: it ends only when start-up closed everything it opened.
  it("says a port in use is a usage error naming the port (exit 2), and exits by itself whichever listener fails", async () => {
    const { createServer } = await import("node:net");
    const held = createServer();
    await new Promise<void>((r) => held.listen(0, "127.0.0.1", () => r()));
    const port = (held.address() as { port: number }).port;
    try {
      const data = join(dir, "serve");
      assert.equal(keyward("sim", "init", "--data-dir", data).status, 0);
      assert.equal(keyward("admin", "init", "--data-dir", data).status, 0);
      mkdirSync(join(data, "policies"), { recursive: true });
      const taken = `127.0.0.1:${port}`;
      for (const flags of [
        ["--listen", taken],
        ["--admin-listen", taken],
        ["--challenge-listen", taken],
        ["--kbs-listen", taken],
        ["--ops-listen", taken],
      ]) {
        const args = ["serve", "--simulation", "--data-dir", data, "--listen", "127.0.0.1:0", ...flags];
        const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
          encoding: "utf8",
          timeout: 60_000,
        });
        assert.equal(r.signal, null, `${flags[0]}: it exits by itself\n${r.stderr}`);
        assert.equal(r.status, 2, `${flags[0]}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`ERR_USAGE: port ${port} .*already in use`), flags[0]);
        assert.doesNotMatch(r.stderr, /internal error/);
      }
      const bad = keyward("serve", "--simulation", "--data-dir", data, "--listen", "nowhere");
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--listen\/KEYWARD_LISTEN must be HOST:PORT/);
    } finally {
      held.close();
    }
  });
});
