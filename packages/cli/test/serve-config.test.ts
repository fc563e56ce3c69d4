/**
 * `keyward serve --config FILE`, run as an operator runs it: the service starts from a YAML or
 * TOML file (its data directory and listeners from the file), the environment wins over the
 * file and flags over the environment, and a bad file stops the start with every problem in one
 * JSON line on stderr (exit 2).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const node = ["--disable-warning=ExperimentalWarning", bin];
let dir = "";
const children: ChildProcess[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-serve-config-"));
  const r = spawnSync(process.execPath, [...node, "sim", "init", "--data-dir", join(dir, "data")], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
});
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `keyward serve ARGS`; resolves with the "listening" log line, or rejects with its output. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [...node, "serve", ...args], {
    // NODE_OPTIONS carries the repository's keyward-source condition (scripts/run-tests.ts).
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      ...(process.env.NODE_OPTIONS === undefined ? {} : { NODE_OPTIONS: process.env.NODE_OPTIONS }),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      err += d;
    });
    child.stdout?.on("data", (d: Buffer) => {
      out += d;
      for (const line of out.split("\n")) {
        if (!line.includes('"event":"listening"')) continue;
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.on("exit", (code) => reject(Object.assign(new Error(`exit ${code}`), { out, err, code })));
  });
}

/** The ops listener answers; then the service is stopped as an operator stops it. */
async function healthy(port: unknown): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${String(port)}/healthz`);
  assert.equal(r.status, 200);
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
}

describe("keyward serve --config", { timeout: 120_000 }, () => {
  it("starts from a YAML file: data directory, listeners and level from the file", async () => {
    const file = join(dir, "keyward.yaml");
    writeFileSync(
      file,
      `simulation: true\ndataDir: ${join(dir, "data")}\nlisten: 127.0.0.1:0\nopsListen: 127.0.0.1:0\nlogLevel: info\n`,
    );
    const line = await serve(["--config", file]);
    assert.equal(line.mode, "simulation");
    assert.equal(typeof line.opsPort, "number", "the ops listener named by the file runs");
    await healthy(line.opsPort);
  });

  it("starts from a TOML file named by KEYWARD_CONFIG; the environment wins over the file", async () => {
    const file = join(dir, "keyward.toml");
    // The file asks for error lines only: the info line "listening" appears because the
    // environment says info.
    writeFileSync(
      file,
      `simulation = true\ndataDir = "${join(dir, "data")}"\nlisten = "127.0.0.1:0"\nopsListen = "127.0.0.1:0"\nlogLevel = "error"\n`,
    );
    const line = await serve([], { KEYWARD_CONFIG: file, KEYWARD_LOG_LEVEL: "info" });
    await healthy(line.opsPort);
  });

  it("takes a flag over the environment", async () => {
    const file = join(dir, "flag.yaml");
    writeFileSync(file, `simulation: true\nlisten: 127.0.0.1:0\nopsListen: 127.0.0.1:0\n`);
    const line = await serve(["--config", file, "--data-dir", join(dir, "data"), "--log-level", "info"], {
      KEYWARD_LOG_LEVEL: "silent",
    });
    await healthy(line.opsPort);
  });

  it("refuses a bad file with every problem in one JSON line on stderr (exit 2)", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      [
        "simulation: true",
        `dataDir: ${join(dir, "data")}`,
        "listen: nowhere",
        "databaseUrl: postgres://keyward:hunter2-password@db/keyward",
        "logLevel: loud",
        "colour: blue",
        "",
      ].join("\n"),
    );
    const failure = (await serve(["--config", file]).then(
      () => assert.fail("started"),
      (e: unknown) => e,
    )) as { out: string; err: string; code: number };
    assert.equal(failure.code, 2);
    assert.equal(failure.out, "", "nothing on stdout");
    const lines = failure.err.trim().split("\n");
    assert.equal(lines.length, 1, failure.err);
    const entry = JSON.parse(lines[0] as string) as {
      level: number;
      event: string;
      code: string;
      problems: string[];
      msg: string;
    };
    assert.equal(entry.level, 60);
    assert.equal(entry.event, "startup.failed");
    assert.equal(entry.code, "ERR_USAGE");
    assert.match(entry.msg, /^keyward: ERR_USAGE: configuration: /);
    assert.deepEqual(
      entry.problems.map((p) => p.replace(`${file}: `, "").split(" ")[0]),
      ["colour", "listen", "databaseUrl", "logLevel"],
    );
    assert.ok(!failure.err.includes("hunter2"), "the password is not echoed");
  });
});
