/**
 * The packages as npm users get them: every workspace packed (`npm pack`, which builds it through
 * its `prepack`), the tarballs installed into an empty project in a temporary directory, a small
 * TypeScript consumer type-checked with plain settings (module nodenext, strict) and run on the
 * project's Node, and the installed `keyward` command run on a real quote the package bundles.
 *
 * The install is offline: the project's lockfile gets the exact versions the repository's own
 * lockfile pins for the packages' dependencies (so the consumer runs against what the repository
 * tested), whose tarballs the repository's `npm install` left in npm's cache. Where that cache
 * is gone, the install falls back to `--prefer-offline` (the registry, for what is missing).
 */
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SIM_SERVICE_MEASUREMENT } from "../packages/server/src/kernel/trust.ts";
import { hex, mr, seedPolicy, startFixture } from "../packages/server/test/service/helpers.ts";
import { workspaces } from "./build-packages.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const VECTOR = "phala-tdx-v4"; // a real TDX v4 quote with Intel-signed collateral (its MANIFEST.md)

interface LockEntry {
  version?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

interface PackResult {
  name: string;
  filename: string;
  files: { path: string }[];
}

/**
 * The environment of a user's shell in the consumer project: no npm script variables (npm would
 * read `npm_config_*` as configuration, the repository's among them) and no NODE_OPTIONS (the
 * repository's `keyward-source` condition would send Node to sources the tarballs do not run).
 * The project's Node comes first on PATH, as it does for the repository's npm scripts.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^npm_/i.test(k) && k !== "NODE_OPTIONS" && k !== "INIT_CWD") env[k] = v;
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`;
  return env;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  return spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
}

const said = (r: SpawnSyncReturns<string>) => `status ${r.status}\n${r.stdout}\n${r.stderr}`;

/**
 * The lockfile entries (from the repository's) of everything `names` need, found as Node finds a
 * dependency: nested under the requiring package first, then in the directories above it.
 */
function closure(lock: Record<string, LockEntry>, names: readonly string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const find = (from: string, name: string): string | undefined => {
    let base = from;
    for (;;) {
      const key = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
      if (lock[key] !== undefined && lock[key].link !== true) return key;
      if (base === "") return undefined;
      const i = base.lastIndexOf("/node_modules/");
      base = i === -1 ? "" : base.slice(0, i);
    }
  };
  const visit = (from: string, name: string, optional: boolean) => {
    const key = find(from, name);
    if (key === undefined) {
      if (optional) return;
      throw new Error(`the repository's lockfile has no ${name} (needed by ${from || "the consumer"})`);
    }
    if (out[key] !== undefined) return;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = lock[key] as LockEntry;
    out[key] = entry;
    for (const d of Object.keys(entry.dependencies ?? {})) visit(key, d, false);
    for (const d of Object.keys(entry.optionalDependencies ?? {})) visit(key, d, true);
    for (const d of Object.keys(entry.peerDependencies ?? {}))
      visit(key, d, entry.peerDependenciesMeta?.[d]?.optional === true);
  };
  for (const n of names) visit("", n, false);
  return out;
}

const CONSUMER = `import { appraise, policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson, parseDcapQuote } from "@keyward/attest/dcap";
import { isKeywardError, type ErrorCode } from "@keyward/attest/errors";
import { createPeerVerifier, type PeerVerifier } from "@keyward/channels/tls";
import { addressOf, getSecrets, type GetSecretsOptions } from "@keyward/client";
import { readFileBounded, readTextBounded } from "@keyward/platform/io";
import { initSimPlatform } from "@keyward/platform/sim";
import { SecretProvisioningService } from "@keyward/proto/keyward/v1";
import { ALL_ERROR_DOCS, STATUS } from "@keyward/server/errors";
import { verifyChain } from "@keyward/server/audit";
import { startVaultContract } from "@keyward/testkit/vault";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [dir = "", at = ""] = process.argv.slice(2);
const quote = readFileBounded(join(dir, "quote.bin"), { kind: "evidence", what: "quote" });
const collateral = parseCollateralJson(
  readTextBounded(join(dir, "collateral.json"), { kind: "collateral", what: "collateral" }),
);
const verdict = createDcapVerifier().verify(quote, collateral, new Date(at));
if (verdict.claims.tee !== "tdx") throw new Error("a TDX quote was expected");
const mrTd = Buffer.from(verdict.claims.mrTd).toString("hex");
const pinned = appraise(verdict, policyFromObject({ id: "pinned", tee: ["tdx"], mr_td: [mrTd] }, "consumer"));
const other = appraise(verdict, policyFromObject({ id: "other", tee: ["tdx"], mr_td: ["00".repeat(48)] }, "consumer"));

let truncated: ErrorCode | "accepted" = "accepted";
try {
  parseDcapQuote(quote.subarray(0, 100));
} catch (e) {
  truncated = isKeywardError(e) ? e.code : "ERR_INTERNAL";
}

const home = mkdtempSync(join(tmpdir(), "consumer-"));
const sim = initSimPlatform(join(home, "sim"), { now: new Date() });
const simQuote = parseDcapQuote(sim.quoteTdx({ mrTd: new Uint8Array(48).fill(3), reportData: new Uint8Array(64) }));
rmSync(home, { recursive: true, force: true });

const verifier: PeerVerifier = createPeerVerifier({
  verify: () => {
    throw new Error("this consumer meets no peer");
  },
});
const options: Partial<GetSecretsOptions> = {};
const vault = await startVaultContract();
await vault.close();

console.log(
  JSON.stringify({
    tcbStatus: verdict.tcbStatus,
    tee: verdict.tee,
    pinned: pinned.accepted,
    other: other.failed.map((f) => f.rule),
    truncated,
    simulatedTee: simQuote.header.teeType,
    service: SecretProvisioningService.typeName,
    status: STATUS.ERR_SERVICE_DENIED,
    codes: Object.keys(ALL_ERROR_DOCS).length,
    emptyChain: verifyChain([]).ok,
    verifier: typeof verifier,
    client: [typeof getSecrets, addressOf("127.0.0.1:7000"), Object.keys(options).length],
  }),
);
`;

// An enclave app as a user writes it with the installed @keyward/client: one call, the service
// verified against its expected measurement, the secret printed (a test value).
const CLIENT_APP = `import { getSecrets, serverTrust } from "@keyward/client";
import { loadSimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";

const [server = "", simDir = "", serviceMr = "", appMr = ""] = process.argv.slice(2);
const platform = loadSimPlatform(simDir);
const verifyServer = serverTrust({
  policy: { id: "keyward", platforms: ["simulated"], mrEnclave: [serviceMr] },
  simulation: { rootPem: platform.rootCertificatePem, collateralJson: platform.collateralJson("sgx") },
});
const attester = simulatedPlatformAttester(platform, {
  mrEnclave: Buffer.from(appMr, "hex"),
  mrSigner: new Uint8Array(32).fill(0x55),
  isvProdId: 1,
  isvSvn: 1,
});
try {
  const secrets = await getSecrets({ server, names: ["master_key"], verifyServer, attester, retry: { attempts: 2 } });
  console.log(JSON.stringify({ path: secrets.path, value: new TextDecoder().decode(secrets.values.master_key) }));
} catch (e) {
  console.log(JSON.stringify({ code: (e as { code?: string }).code }));
}
`;

describe("packages install from npm", { timeout: 15 * 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), "keyward-npm-"));
  const tarballs = join(work, "tarballs");
  const project = join(work, "project");
  const env = userEnv();
  const packed = new Map<string, PackResult>();
  let installed = "";
  after(() => rmSync(work, { recursive: true, force: true }));
  // `npx keyward` as a user types it in the project; `--no`: never fetch, `--`: every argument is the command's.
  const keyward = (args: readonly string[]) => run("npx", ["--no", "--", "keyward", ...args], project, env);

  before(() => {
    mkdirSync(tarballs);
    mkdirSync(project);
    // Each package's prepack builds it (and what it needs); its postpack removes the dist/ again.
    const pack = run(
      "npm",
      ["pack", "--workspaces", "--pack-destination", tarballs, "--json"],
      ROOT,
      process.env,
    );
    assert.equal(pack.status, 0, said(pack));
    for (const p of JSON.parse(pack.stdout) as PackResult[]) packed.set(p.name, p);

    const lock = (
      JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
        packages: Record<string, LockEntry>;
      }
    ).packages;
    const ours = new Set(workspaces().map((w) => w.name));
    const needed = new Set<string>(["typescript", "@types/node"]);
    const dependencies: Record<string, string> = {};
    const entries: Record<string, LockEntry> = {};
    for (const w of workspaces()) {
      const p = packed.get(w.name);
      if (p === undefined) continue;
      const manifest = JSON.parse(readFileSync(join(w.dir, "package.json"), "utf8")) as LockEntry & {
        bin?: Record<string, string>;
        engines?: Record<string, string>;
        license?: string;
      };
      const spec = `file:../tarballs/${p.filename}`;
      dependencies[w.name] = spec;
      const digest = createHash("sha512")
        .update(readFileSync(join(tarballs, p.filename)))
        .digest("base64");
      entries[`node_modules/${w.name}`] = {
        version: manifest.version ?? "",
        resolved: spec,
        integrity: `sha512-${digest}`,
        ...(manifest.license === undefined ? {} : { license: manifest.license }),
        ...(manifest.dependencies === undefined ? {} : { dependencies: manifest.dependencies }),
        ...(manifest.bin === undefined ? {} : { bin: manifest.bin }),
        ...(manifest.engines === undefined ? {} : { engines: manifest.engines }),
      };
      for (const d of Object.keys(manifest.dependencies ?? {})) if (!ours.has(d)) needed.add(d);
    }
    const devDependencies = {
      typescript: lock["node_modules/typescript"]?.version ?? "",
      "@types/node": lock["node_modules/@types/node"]?.version ?? "",
    };
    const manifest = {
      name: "consumer",
      version: "1.0.0",
      private: true,
      type: "module",
      dependencies,
      devDependencies,
    };
    writeFileSync(join(project, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(
      join(project, "package-lock.json"),
      `${JSON.stringify(
        {
          name: "consumer",
          version: "1.0.0",
          lockfileVersion: 3,
          requires: true,
          packages: { "": manifest, ...entries, ...closure(lock, [...needed]) },
        },
        null,
        2,
      )}\n`,
    );
    const flags = ["--no-audit", "--no-fund", "--loglevel=error"];
    let install = run("npm", ["ci", "--offline", ...flags], project, env);
    installed = "offline";
    if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) {
      install = run("npm", ["ci", "--prefer-offline", ...flags], project, env);
      installed = "prefer-offline";
    }
    assert.equal(install.status, 0, said(install));
  });

  it("packs every workspace with its build, README, LICENSE and data, and no tests", (t) => {
    t.diagnostic(`the project's dependencies were installed ${installed}`);
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    for (const w of workspaces()) {
      const p = packed.get(w.name);
      assert.ok(p !== undefined, `${w.name} was not packed`);
      const files = new Set(p.files.map((f) => f.path));
      for (const f of ["package.json", "README.md", "LICENSE"])
        assert.ok(files.has(f), `${w.name} lacks ${f}`);
      // `files` is an allow-list: nothing else from the working tree (data directories, fixtures).
      assert.deepEqual(
        [...files].filter((f) => !/^(dist|src|bin|proto)\/|^(package\.json|README\.md|LICENSE)$/.test(f)),
        [],
        `${w.name} ships files outside its allow-list`,
      );
      assert.equal(
        readFileSync(join(w.dir, "LICENSE"), "utf8"),
        license,
        `${w.name}/LICENSE is not the root's`,
      );
      assert.deepEqual(
        [...files].filter((f) => /\.test\.ts$|(^|\/)test\//.test(f)),
        [],
        `${w.name} ships tests`,
      );
      const manifest = JSON.parse(readFileSync(join(w.dir, "package.json"), "utf8")) as {
        private?: boolean;
        exports?: Record<string, string | Record<string, string>>;
      };
      assert.equal(manifest.private, undefined, `${w.name} is private`);
      for (const [key, target] of Object.entries(manifest.exports ?? {})) {
        if (typeof target === "string") continue;
        for (const c of ["types", "default"]) {
          const file = (target[c] ?? "").replace(/^\.\//, "");
          assert.ok(files.has(file), `${w.name} "${key}" ${c}: ${file} is not in the tarball`);
        }
        const map = `${(target.default ?? "").replace(/^\.\//, "")}.map`;
        assert.ok(files.has(map), `${w.name} "${key}": no source map ${map}`);
      }
      // Data read at run time is part of the package (the build copies it).
      for (const file of readdirSync(w.dir, { recursive: true, withFileTypes: true })) {
        const path = relative(w.dir, join(file.parentPath, file.name));
        if (file.isFile() && path.startsWith("src/") && !path.endsWith(".ts"))
          assert.ok(files.has(`dist/${path}`), `${w.name}: ${path} is not in dist/`);
      }
    }
    const cli = new Set(packed.get("@keyward/cli")?.files.map((f) => f.path));
    for (const f of ["quote.bin", "collateral.json", "expected.json"])
      assert.ok(
        cli.has(`dist/bundled/dcap-vectors/${VECTOR}/${f}`),
        `the CLI does not bundle ${VECTOR}/${f}`,
      );
    assert.ok(cli.has("dist/bundled/dcap-vectors/MANIFEST.md"), "the bundled vectors lack their MANIFEST");
    for (const app of ["secret-client/app.ts", "iot-gateway/app.toml"])
      assert.ok(cli.has(`dist/bundled/${app}`), `the CLI does not bundle the demos' enclave app ${app}`);
    const proto = new Set(packed.get("@keyward/proto")?.files.map((f) => f.path));
    assert.ok(
      [...proto].some((f) => f.startsWith("proto/keyward/v1/") && f.endsWith(".proto")),
      "@keyward/proto does not ship its .proto files",
    );
  });

  it("leaves no dist/ in the repository (a stale build must not answer for the sources)", () => {
    for (const w of workspaces())
      assert.equal(existsSync(join(w.dir, "dist")), false, `${w.dir}/dist remains`);
  });

  it("type-checks a consumer with plain tsc settings (nodenext, strict) and runs it on the project's Node", () => {
    writeFileSync(join(project, "consumer.ts"), CONSUMER);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          types: ["node"],
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = run(
      process.execPath,
      [join(project, "node_modules/typescript/bin/tsc"), "-p", "."],
      project,
      env,
    );
    assert.equal(tsc.status, 0, said(tsc));

    const dir = join(project, "node_modules/@keyward/cli/dist/bundled/dcap-vectors", VECTOR);
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as {
      verify_at: string;
      expected_intel_qvl_semantics: { status: string };
    };
    const r = run(process.execPath, ["consumer.ts", dir, expected.verify_at], project, env);
    assert.equal(r.status, 0, said(r));
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out, {
      tcbStatus: expected.expected_intel_qvl_semantics.status,
      tee: "tdx",
      pinned: true,
      other: ["mrTd"],
      truncated: "ERR_BYTES_TRUNCATED",
      simulatedTee: 0x81,
      service: "keyward.v1.SecretProvisioningService",
      status: out.status,
      codes: out.codes,
      emptyChain: true,
      verifier: "object",
      client: ["function", { host: "127.0.0.1", port: 7000 }, 0],
    });
    assert.equal(typeof out.status, "number");
    assert.ok((out.codes as number) > 50, `only ${out.codes} error codes`);
  });

  it("runs the installed keyward: --help, and quote verify on the quote it bundles", () => {
    const help = keyward(["--help"]);
    assert.equal(help.status, 0, said(help));
    assert.match(help.stdout, /usage: keyward <command>/);
    assert.match(help.stdout, /quote/);
    // The version comes from the installed package.json (the build imports it where it is).
    const version = keyward(["--version"]);
    assert.equal(version.status, 0, said(version));
    assert.match(version.stdout, /^keyward 0\.1\.0 \(Node\.js v\d+/);

    const dir = join(project, "node_modules/@keyward/cli/dist/bundled/dcap-vectors", VECTOR);
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as {
      verify_at: string;
      expected_intel_qvl_semantics: { status: string };
    };
    const args = ["quote", "verify", join(dir, "quote.bin"), "--collateral", join(dir, "collateral.json")];
    const verify = keyward([...args, "--at", expected.verify_at, "--json"]);
    assert.equal(verify.status, 0, said(verify));
    const verdict = JSON.parse(verify.stdout) as { tee: string; tcbStatus: string };
    assert.equal(verdict.tee, "tdx");
    assert.equal(verdict.tcbStatus, expected.expected_intel_qvl_semantics.status);
    // After the collateral expired the same quote is refused, with the CLI's "rejected" status.
    const late = keyward([...args, "--at", "2031-01-01T00:00:00Z", "--json"]);
    assert.equal(late.status, 1, said(late));
  });

  it("runs the installed keyward demos: real quotes, the simulated platform, the service and its enclave apps", () => {
    const demo = keyward(["demo", "--json"]);
    assert.equal(demo.status, 0, said(demo));
    const report = JSON.parse(demo.stdout) as { ok: boolean; failures: number; steps: { ok?: boolean }[] };
    assert.equal(report.ok, true);
    assert.ok(report.steps.filter((s) => s.ok === true).length >= 15, demo.stdout);
    const signing = keyward(["demo", "signing", "--json"]);
    assert.equal(signing.status, 0, said(signing));
    assert.equal((JSON.parse(signing.stdout) as { ok: boolean }).ok, true);
  });

  it("gets a secret from a running service with the installed @keyward/client, on both paths", async () => {
    writeFileSync(join(project, "client-app.ts"), CLIENT_APP);
    writeFileSync(
      join(project, "tsconfig.client.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          types: ["node"],
        },
        files: ["client-app.ts"],
      }),
    );
    const tsc = run(
      process.execPath,
      [join(project, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.client.json"],
      project,
      env,
    );
    assert.equal(tsc.status, 0, said(tsc));
    const f = await startFixture([seedPolicy("app", 0xc1)]);
    try {
      // The app runs as its own process (spawned without blocking this one, which serves it).
      const app = (server: string, m: number) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ["client-app.ts", server, join(f.dir, "sim"), hex(SIM_SERVICE_MEASUREMENT), hex(mr(m))],
            { cwd: project, env },
          );
          let out = "";
          child.stdout.on("data", (c) => (out += c));
          child.stderr.on("data", (c) => (out += c));
          child.once("error", reject);
          child.once("exit", () => {
            try {
              resolve(JSON.parse(out) as Record<string, unknown>);
            } catch {
              reject(new Error(out));
            }
          });
        });
      assert.deepEqual(await app(`127.0.0.1:${f.running.port}`, 0xc1), {
        path: "mutual",
        value: "s3cr3t-image-key",
      });
      assert.deepEqual(await app(`127.0.0.1:${f.running.challengePort}`, 0xc1), {
        path: "challenge",
        value: "s3cr3t-image-key",
      });
      assert.deepEqual(await app(`127.0.0.1:${f.running.port}`, 0xee), { code: "ERR_SERVICE_DENIED" });
    } finally {
      await f.service.close();
    }
  });
});
