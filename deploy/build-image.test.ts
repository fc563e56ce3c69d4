/**
 * The keyward container image, built with buildah by deploy/build_image.sh from its Containerfile
 * (local stand-ins for the public bases: no registry is reachable here), then run as a container
 * engine would run it: `buildah run` with chroot isolation, the data directory as a volume, host
 * networking. Uses its own buildah storage in a temporary directory, removed afterwards; the base
 * stand-ins are cached across runs (deploy/local-bases.sh). Takes minutes the first time.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { BuildahStorage } from "./buildah-storage.ts";
import { renderGramineManifest } from "./gramine/render.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const IMAGE = "localhost/keyward/keyward:latest";
const NONROOT = 65532;
let storage: BuildahStorage | undefined;
let ctr = "";
let rootfs = "";

const store = (): BuildahStorage => {
  if (storage === undefined) throw new Error("the image was not built");
  return storage;
};
const buildah = (...args: string[]): string => store().buildah(...args);
const storageArgs = (): string[] => store().args();
/** `buildah run` as the image's user, with the data directory mounted. */
const runArgs = (data: string, ...rest: string[]) => [
  ...storageArgs(),
  "run",
  "--isolation",
  "chroot",
  "--user",
  `${NONROOT}:${NONROOT}`,
  "-v",
  `${data}:/var/lib/keyward`,
  ...rest,
];

/** Path, mode, owner, size and mtime of everything in the container's root file system. */
function snapshot(dir: string, skip: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip.has(rel)) continue;
      const s = lstatSync(p);
      out.push(`${rel} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.size} ${s.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0));
    });
  });
}

/** Descendants of `pid` (from /proc), children first. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const visit = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

describe("the keyward image (buildah)", { timeout: 1_800_000 }, () => {
  let built = "";
  before(() => {
    storage = new BuildahStorage("keyward-image-test-");
    built = storage.build("keyward");
    ctr = buildah("from", "--pull=false", IMAGE);
    rootfs = buildah("mount", ctr);
  });
  after(() => {
    storage?.remove();
  });

  it("is tagged with the version and reports its size; its bases are the labelled stand-ins", () => {
    assert.match(built, /^localhost\/keyward\/keyward:\d+\.\d+\.\d+ \d+(\.\d+)? [kMG]B$/m);
    for (const base of ["docker.io/library/node:24-bookworm-slim", "gcr.io/distroless/cc-debian12"]) {
      const { config } = JSON.parse(buildah("inspect", "--type", "image", base)).OCIv1;
      assert.equal(config.Labels["org.keyward.stand-in.for"], base);
    }
  });

  it("holds the executable and its libraries, no shell and no package manager, and runs as 65532", () => {
    assert.ok(existsSync(join(rootfs, "usr/local/bin/keyward")));
    for (const lib of ["lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libstdc++.so.6"])
      assert.ok(existsSync(join(rootfs, lib)), lib);
    for (const absent of [
      "bin/sh",
      "bin/bash",
      "usr/bin/sh",
      "usr/bin/apt",
      "usr/bin/apt-get",
      "usr/bin/dpkg",
      "usr/local/bin/node",
      "usr/local/bin/npm",
    ])
      assert.ok(!existsSync(join(rootfs, absent)), `${absent} must not be in the image`);
    const { config } = JSON.parse(buildah("inspect", "--type", "image", IMAGE)).OCIv1;
    assert.equal(config.User, `${NONROOT}:${NONROOT}`);
    assert.deepEqual(config.Entrypoint, ["/usr/local/bin/keyward"]);
    assert.deepEqual(config.Cmd, ["serve"]);
    assert.ok(config.Env.includes("KEYWARD_DATA_DIR=/var/lib/keyward"));
    const data = spawnSync("stat", ["-c", "%a %u", join(rootfs, "var/lib/keyward")], { encoding: "utf8" });
    assert.equal(data.stdout.trim(), `700 ${NONROOT}`);
  });

  it("runs keyward --help", () => {
    const r = spawnSync(
      "buildah",
      [...storageArgs(), "run", "--isolation", "chroot", ctr, "--", "/usr/local/bin/keyward", "--help"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /usage: keyward/);
  });

  it("serves in simulation mode: ready from the host, stopped by pid, writing only its data volume", async () => {
    const data = mkdtempSync(join(store().dir, "data-"));
    chownSync(data, NONROOT, NONROOT);
    const init = spawnSync("buildah", runArgs(data, ctr, "--", "/usr/local/bin/keyward", "sim", "init"), {
      encoding: "utf8",
    });
    assert.equal(init.status, 0, init.stderr);
    // buildah run touches /run (its own mount point) and nothing else of the image.
    const before = snapshot(rootfs, new Set(["run", "var/lib/keyward"]));
    const [port, ops] = [await freePort(), await freePort()];
    const args = [
      "serve",
      "--simulation",
      "--listen",
      `127.0.0.1:${port}`,
      "--ops-listen",
      `127.0.0.1:${ops}`,
    ];
    const child: ChildProcess = spawn(
      "buildah",
      runArgs(data, "--network", "host", ctr, "--", "/usr/local/bin/keyward", ...args),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let ready = "";
      for (let i = 0; i < 600 && ready === ""; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${ops}/readyz`);
          if (res.status === 200) ready = await res.text();
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(ready, "ready\n", `never ready:\n${out}`);
      const metrics = await fetch(`http://127.0.0.1:${ops}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      assert.match(out, /keyward serving \(SIMULATION mode\)/);
      // Stopped as an operator stops it: SIGTERM to the service's own process, found by pid.
      const pid = descendants(child.pid ?? -1).find((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").startsWith("/usr/local/bin/keyward\0serve");
        } catch {
          return false;
        }
      });
      assert.ok(pid !== undefined, "the keyward process is found under buildah run");
      assert.equal(readFileSync(`/proc/${pid}/status`, "utf8").match(/^Uid:\s+(\d+)/m)?.[1], String(NONROOT));
      process.kill(pid, "SIGTERM");
      assert.equal(await exited, 0, out);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    assert.deepEqual(
      snapshot(rootfs, new Set(["run", "var/lib/keyward"])),
      before,
      "the root file system is unchanged",
    );
    assert.ok(existsSync(join(data, "keyward.db")), "the database is in the volume");
    const key = spawnSync("stat", ["-c", "%a %u", join(data, "master.key")], { encoding: "utf8" });
    assert.equal(key.stdout.trim(), `600 ${NONROOT}`);
  });

  it("refuses hardware mode where there is no TEE, with its code", () => {
    const data = mkdtempSync(join(store().dir, "data-"));
    chownSync(data, NONROOT, NONROOT);
    const r = spawnSync(
      "buildah",
      runArgs(data, ctr, "--", "/usr/local/bin/keyward", "serve", "--listen", "127.0.0.1:0"),
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /ERR_ATTESTER_UNAVAILABLE/);
  });

  it("holds every file the Gramine manifest trusts, at the path it names", () => {
    const { manifest } = renderGramineManifest(join(ROOT, "deploy/gramine/keyward.manifest.template"), {
      log_level: "error",
      arch_libdir: "/lib/x86_64-linux-gnu",
      keyward: "/usr/local/bin/keyward",
      data_dir: "/var/lib/keyward",
    });
    const trusted = (manifest.sgx as { trusted_files: string[] }).trusted_files
      .map((f) => f.replace(/^file:/, ""))
      .filter((f) => !f.includes("/gramine/")); // Gramine's own runtime comes with Gramine
    assert.ok(trusted.length >= 3);
    for (const f of trusted) assert.ok(existsSync(join(rootfs, f)), `${f} is not in the image`);
  });
});
