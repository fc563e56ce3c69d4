/**
 * The Gramine manifest template of `keyward serve` (deploy/gramine/keyward.manifest.template),
 * rendered as gramine-manifest renders it (render.ts) and checked for what the enclave must fix.
 * Gramine and SGX hardware are not available here: the manifest was not signed or run (docs/images.md).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { renderGramineManifest } from "./render.ts";

const template = fileURLToPath(new URL("./keyward.manifest.template", import.meta.url));
const defines = {
  log_level: "error",
  arch_libdir: "/lib/x86_64-linux-gnu",
  keyward: "/usr/local/bin/keyward",
  data_dir: "/var/lib/keyward",
};

interface Manifest {
  libos: { entrypoint: string };
  loader: { argv: string[]; env: Record<string, string | { passthrough: boolean }> };
  fs: { mounts: { type?: string; path: string; uri?: string; key_name?: string }[] };
  sys: Record<string, unknown>;
  sgx: {
    debug: boolean;
    edmm_enable: boolean;
    max_threads: number;
    remote_attestation: string;
    trusted_files: string[];
    allowed_files?: string[];
  };
}
const render = (env: Record<string, string> = {}) =>
  renderGramineManifest(template, defines, env).manifest as unknown as Manifest;

function* keysOf(value: unknown, prefix = ""): Generator<string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) {
    yield `${prefix}${k}`;
    yield* keysOf(v, `${prefix}${k}.`);
  }
}

describe("Gramine manifest of keyward serve", () => {
  const m = render();

  it("runs the single executable in hardware mode with the Gramine attester and DCAP", () => {
    assert.equal(m.libos.entrypoint, "/usr/local/bin/keyward");
    assert.deepEqual(m.loader.argv, ["keyward", "serve", "--attester", "gramine"]);
    assert.equal(m.sgx.remote_attestation, "dcap");
    assert.equal(m.sgx.debug, false);
  });

  it("lets the host set addresses and the database only — never what the service trusts", () => {
    const passthrough = Object.entries(m.loader.env)
      .filter(([, v]) => typeof v === "object" && v.passthrough)
      .map(([k]) => k);
    for (const forbidden of [
      "KEYWARD_SIMULATION",
      "KEYWARD_MASTER_KEY_FILE",
      "KEYWARD_POLICY_DIR",
      "KEYWARD_ATTESTER",
      "KEYWARD_DATA_DIR",
    ]) {
      assert.ok(!passthrough.includes(forbidden), `${forbidden} must not come from the host`);
    }
    assert.equal(m.loader.env.KEYWARD_DATA_DIR, "/var/lib/keyward");
    assert.ok(!m.loader.argv.includes("--simulation"));
    // No insecure__ option at all: no host argv, no host environment, no hard-coded keys.
    assert.deepEqual(
      [...keysOf(m)].filter((k) => k.includes("insecure__")),
      [],
    );
  });

  it("keeps the data directory encrypted under the signer's sealing key, /tmp in enclave memory", () => {
    const data = m.fs.mounts.find((x) => x.path === "/var/lib/keyward");
    assert.deepEqual(data, {
      type: "encrypted",
      path: "/var/lib/keyward",
      uri: "file:/var/lib/keyward",
      key_name: "_sgx_mrsigner",
    });
    assert.equal(m.fs.mounts.find((x) => x.path === "/tmp")?.type, "tmpfs");
    assert.equal(m.sgx.allowed_files, undefined, "nothing is read unverified from the host");
  });

  it("trusts every library the executable links: Gramine's glibc, or a trusted file", () => {
    // The single executable is a copy of this Node binary: the same dynamic section.
    const ldd = spawnSync("ldd", [process.execPath], { encoding: "utf8" });
    assert.equal(ldd.status, 0, ldd.stderr);
    const gramineGlibc = new Set([
      "libc.so.6",
      "libm.so.6",
      "libdl.so.2",
      "libpthread.so.0",
      "ld-linux-x86-64.so.2",
    ]);
    const trusted = new Set(
      m.sgx.trusted_files
        .map((f) => f.replace(/^file:/, ""))
        .filter((f) => !f.endsWith("/"))
        .map((f) => {
          try {
            return realpathSync(f);
          } catch {
            return f;
          }
        }),
    );
    const libraries = [...ldd.stdout.matchAll(/^\s*(\S+)(?: => (\S+))? \(0x/gm)]
      .filter(([, name]) => !name?.startsWith("linux-vdso"))
      .map(([, name = "", path]) => ({ name: basename(name), path: path ?? name }));
    assert.ok(libraries.some((l) => l.name === "libstdc++.so.6"));
    for (const lib of libraries) {
      if (gramineGlibc.has(lib.name)) continue;
      assert.ok(trusted.has(realpathSync(lib.path)), `${lib.name} (${lib.path}) is not a trusted file`);
    }
  });

  it("renders for EDMM platforms too", () => {
    const edmm = render({ EDMM: "1" });
    assert.equal(edmm.sgx.edmm_enable, true);
    assert.equal(edmm.sgx.max_threads, 8);
    assert.equal(m.sgx.edmm_enable, false);
    assert.equal(m.sgx.max_threads, 64);
  });

  it("fails on a name gramine-manifest would not know, rather than render it empty", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyward-gramine-test-"));
    try {
      const bad = join(dir, "bad.manifest.template");
      writeFileSync(bad, 'libos.entrypoint = "{{ no_such_define }}"\n');
      assert.throws(() => renderGramineManifest(bad, defines), /no_such_define/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
