/**
 * Builds a Node single executable application (SEA) of one of Keyward's commands:
 *
 *   node scripts/build-sea.ts TARGET [--out FILE] [--no-strip] [--force]
 *
 * writes `dist/sea/TARGET` (or FILE): the project's own Node 24 binary with the command bundled
 * into it. Steps, each with a maintained tool:
 *
 * 1. esbuild bundles the command's bin into one CommonJS script (Node 24's SEA runs CommonJS
 *    main scripts only; `mainFormat: "module"` arrived in Node 25). `import.meta.url` becomes
 *    the executable's own file URL, so module-level `new URL(…, import.meta.url)` never throws.
 * 2. Every `startThread("NAME", new URL("REL", import.meta.url))` in the bundled sources gets its
 *    module bundled on its own (ESM) and embedded as `thread/NAME.mjs`; every
 *    `openBundledDirectory("NAME", new URL("REL", import.meta.url))` gets its directory embedded
 *    as `dir/NAME/…` (see `@keyward/platform/runtime`).
 * 3. With `enclaveLibraries`, the packages enclave apps import are bundled as ESM with shared
 *    chunks and embedded as `lib/…`, so `keyward enclave run` and `keyward demo` work with
 *    nothing but the executable.
 * 4. `node --experimental-sea-config` writes the preparation blob; a copy of the Node binary is
 *    stripped of its symbol tables (`strip`, when installed) and postject injects the blob.
 *
 * The build is skipped when the executable beside its `.json` stamp was made from the same
 * inputs (bundles, assets, Node binary). A target is one entry in {@link TARGETS}.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";

/** A single executable to build. */
interface Target {
  /** The command's bin, relative to the repository. Its module graph must have no top-level await. */
  readonly bin: string;
  /** Packages (all their subpath exports) that enclave apps run by this command may import. */
  readonly enclaveLibraries?: readonly string[];
}

/** The executables this repository builds. Adding one is adding a line (docs/images.md). */
export const TARGETS: Readonly<Record<string, Target>> = {
  keyward: {
    bin: "packages/cli/bin/keyward.ts",
    enclaveLibraries: [
      "@keyward/attest",
      "@keyward/platform",
      "@keyward/proto",
      "@keyward/channels",
      "@keyward/client",
      "@bufbuild/protobuf",
      "@connectrpc/connect",
      "@connectrpc/connect-node",
      // @keyward/client opens the challenge path's JWEs with it
      "jose",
      // otpqr (`keyward demo otp`)
      "otpauth",
      "qrcode",
    ],
  },
  // The confidential QR-code generator: its own simulated launcher and the app (examples/otpqr).
  otpqr: {
    bin: "examples/otpqr/bin/otpqr.ts",
    enclaveLibraries: [
      "@keyward/attest",
      "@keyward/platform",
      "@keyward/proto",
      "@keyward/channels",
      "@bufbuild/protobuf",
      "@connectrpc/connect",
      "@connectrpc/connect-node",
      "otpauth",
      "qrcode",
    ],
  },
};

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The Node binary whose copy becomes the executable: the one running this script (Node 24). */
const NODE = process.execPath;
const FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const THREAD_CALL = /startThread\(\s*"([a-z0-9-]+)",\s*new URL\("([^"]+)",\s*import\.meta\.url\)/g;
const DIRECTORY_CALL =
  /openBundledDirectory\(\s*"([a-z0-9-]+)",\s*(?:new URL\("([^"]+)",\s*import\.meta\.url\)|([A-Za-z_$][\w$]*))\s*\)/g;
const URL_CONST = (name: string) =>
  new RegExp(`const ${name} = new URL\\("([^"]+)",\\s*import\\.meta\\.url\\)`);
// A CommonJS dependency inside an ES module bundle still calls require() for built-ins.
const ESM_REQUIRE_BANNER =
  'import { createRequire as __keywardCreateRequire } from "node:module";\n' +
  "const require = __keywardCreateRequire(process.execPath);";

/** What a build produced. */
export interface SeaBuild {
  readonly path: string;
  readonly bytes: number;
  /** Whether this run built it (false: the existing executable was up to date). */
  readonly built: boolean;
}

/**
 * Builds the single executable `target` into `out` (default `dist/sea/TARGET`).
 * @throws Error with the failing step's output
 */
export async function buildSea(
  target: string,
  options: { out?: string; strip?: boolean; force?: boolean } = {},
): Promise<SeaBuild> {
  const spec = TARGETS[target];
  if (spec === undefined)
    throw new Error(`unknown target ${target} (known: ${Object.keys(TARGETS).join(", ")})`);
  const out = resolve(options.out ?? join(ROOT, "dist", "sea", target));
  mkdirSync(dirname(out), { recursive: true });
  const work = mkdtempSync(join(dirname(out), `.${target}-build-`));
  try {
    const assets: Record<string, string> = {};
    const inputs = await bundleMain(spec, join(work, "main.cjs"));
    for (const [name, file] of findThreads(inputs)) {
      const bundled = join(work, "thread", `${name}.mjs`);
      await bundleEsm({ [name]: file }, dirname(bundled), false);
      assets[`thread/${name}.mjs`] = bundled;
    }
    // Native addons (e.g. @node-rs/argon2's): carried as assets, loaded by nativeAddons' stub.
    for (const file of inputs.filter((f) => f.endsWith(".node"))) assets[`addon/${basename(file)}`] = file;
    for (const [name, dir] of findDirectories(inputs)) {
      for (const file of walk(dir)) assets[`dir/${name}/${relative(dir, file).split(sep).join("/")}`] = file;
    }
    if (spec.enclaveLibraries !== undefined) Object.assign(assets, await bundleLibraries(spec, work));

    const strip = options.strip !== false && hasCommand("strip");
    const stamp = inputStamp(join(work, "main.cjs"), assets, strip);
    const stampFile = `${out}.json`;
    if (options.force !== true && existsSync(out) && existsSync(stampFile)) {
      const previous = JSON.parse(readFileSync(stampFile, "utf8")) as { inputs?: string };
      if (previous.inputs === stamp) return { path: out, bytes: statSync(out).size, built: false };
    }

    const config = {
      main: join(work, "main.cjs"),
      output: join(work, "sea-prep.blob"),
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      assets,
    };
    writeFileSync(join(work, "sea-config.json"), JSON.stringify(config, null, 2));
    run(NODE, ["--experimental-sea-config", join(work, "sea-config.json")]);
    const exe = join(work, target);
    copyFileSync(NODE, exe);
    chmodSync(exe, 0o755);
    // The debug info and the static symbol table are half of Node's binary and unused at run time
    // (.dynsym, which native addons link against, stays).
    if (strip) run("strip", ["--strip-all", exe]);
    // postject's CLI in a child process: its ELF parser prints warnings about Node's notes that
    // are noise unless the injection fails.
    const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
    run(NODE, [postject, exe, "NODE_SEA_BLOB", config.output, "--sentinel-fuse", FUSE]);
    renameSync(exe, out);
    const bytes = statSync(out).size;
    writeFileSync(
      stampFile,
      `${JSON.stringify({ target, node: process.version, bytes, stripped: strip, inputs: stamp }, null, 2)}\n`,
    );
    return { path: out, bytes, built: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Bundles the bin behind the SEA's own entry; returns the source files it read (absolute). */
async function bundleMain(spec: Target, outfile: string): Promise<string[]> {
  const bin = join(ROOT, spec.bin);
  // The reserved argument turns the executable into a plain Node runtime for one module
  // (`@keyward/platform/runtime`, child-module.ts); anything else is the command itself.
  const entry = [
    'import { RUN_MODULE_ARG, runChildModule } from "@keyward/platform/runtime";',
    "if (process.argv[2] === RUN_MODULE_ARG) void runChildModule(process.argv.slice(3));",
    `else void import(${JSON.stringify(`./${relative(ROOT, bin).split(sep).join("/")}`)});`,
  ].join("\n");
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: ROOT, sourcefile: "<sea-entry>", loader: "ts" },
    outfile,
    bundle: true,
    platform: "node",
    // The repository's sources, not a package build (docs/architecture.md, "Packages on npm").
    conditions: ["keyward-source"],
    format: "cjs",
    target: "node24",
    metafile: true,
    logLevel: "error",
    // pg loads its optional native binding only when asked for (pg.native), which Keyward never does.
    external: ["pg-native"],
    define: { "import.meta.url": "__keywardImportMetaUrl" },
    plugins: [nativeAddons],
    // In a SEA's main script `require` loads built-ins only and `__filename` is the executable.
    banner: { js: 'var __keywardImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  return Object.keys(result.metafile.inputs)
    .filter((f) => !f.startsWith("<"))
    .map((f) => resolve(ROOT, f));
}

/**
 * A native addon (`.node`) cannot be bundled, and a SEA's `require` loads built-ins only. Each
 * addon the bundle reaches becomes a stub that loads it with `process.dlopen` when first required:
 * from beside the executable when a deployment ships it there (an image with a read-only root),
 * otherwise from the SEA's asset `addon/NAME`, written once into a fresh private directory
 * (mkdtemp, 0700; the file 0500, created with O_EXCL) that is removed as soon as it is loaded
 * (the mapping stays).
 */
const nativeAddons: esbuild.Plugin = {
  name: "native-addons",
  setup(build) {
    build.onLoad({ filter: /\.node$/ }, (args) => {
      const name = JSON.stringify(basename(args.path));
      return {
        loader: "js",
        // The file is an input of the build (the metafile lists it), so buildSea packs it as an asset.
        watchFiles: [args.path],
        contents: `
var fs = require("node:fs"), os = require("node:os"), path = require("node:path");
var beside = path.join(path.dirname(process.execPath), ${name});
var m = { exports: {} };
if (fs.existsSync(beside)) process.dlopen(m, beside);
else {
  var dir = fs.mkdtempSync(path.join(os.tmpdir(), "keyward-addon-"));
  try {
    var file = path.join(dir, ${name});
    fs.writeFileSync(file, new Uint8Array(require("node:sea").getRawAsset("addon/" + ${name})), { mode: 0o500, flag: "wx" });
    process.dlopen(m, file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
module.exports = m.exports;
`,
      };
    });
  },
};

/** `startThread("NAME", new URL("REL", import.meta.url))` calls in `inputs` → NAME → module file. */
export function findThreads(inputs: readonly string[]): Map<string, string> {
  const threads = new Map<string, string>();
  for (const file of inputs.filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(file, "utf8");
    if (!source.includes("startThread(") || file.includes(`${sep}runtime${sep}`)) continue;
    const calls = [...source.matchAll(THREAD_CALL)];
    if (calls.length !== source.split("startThread(").length - 1)
      throw new Error(
        `${file}: startThread must be called as startThread("name", new URL("./x.ts", import.meta.url))`,
      );
    for (const [, name = "", rel = ""] of calls) {
      const path = fileURLToPath(new URL(rel, pathToFileURL(file)));
      const known = threads.get(name);
      if (known !== undefined && known !== path) throw new Error(`thread ${name} names two modules`);
      threads.set(name, path);
    }
  }
  return threads;
}

/**
 * `openBundledDirectory("NAME", new URL("REL", import.meta.url))` calls in `inputs`, or with a
 * `const u = new URL("REL", import.meta.url)` of the same file → NAME → directory.
 */
export function findDirectories(inputs: readonly string[]): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const file of inputs.filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(file, "utf8");
    if (!source.includes("openBundledDirectory(") || file.includes(`${sep}runtime${sep}`)) continue;
    const calls = [...source.matchAll(DIRECTORY_CALL)];
    if (calls.length !== source.split("openBundledDirectory(").length - 1)
      throw new Error(
        `${file}: openBundledDirectory must be called as openBundledDirectory("name", new URL("…", import.meta.url)) or with a const holding that URL`,
      );
    for (const [, name = "", literal, variable = ""] of calls) {
      const rel = literal ?? URL_CONST(variable).exec(source)?.[1];
      if (rel === undefined)
        throw new Error(
          `${file}: ${variable} must be declared as const ${variable} = new URL("…", import.meta.url)`,
        );
      const path = fileURLToPath(new URL(rel, pathToFileURL(file)));
      if (!statSync(path, { throwIfNoEntry: false })?.isDirectory())
        throw new Error(`${file}: ${path} is not a directory`);
      dirs.set(name, path);
    }
  }
  return dirs;
}

/** Bundles the enclave libraries as ESM with shared chunks; returns their asset map. */
async function bundleLibraries(spec: Target, work: string): Promise<Record<string, string>> {
  const specifiers = new Map<string, string>(); // specifier → source file
  for (const pkg of spec.enclaveLibraries ?? []) {
    for (const s of subpathSpecifiers(pkg)) specifiers.set(s, sourceFile(s));
  }
  const entries: Record<string, string> = {};
  const files: Record<string, string> = {};
  for (const [s, file] of specifiers) {
    const name = s.replace(/^@/, "").replace(/[^a-zA-Z0-9]+/g, "-");
    entries[name] = file;
    files[s] = `${name}.mjs`;
  }
  const dir = join(work, "lib");
  await bundleEsm(entries, dir, true);
  const assets: Record<string, string> = {};
  for (const file of walk(dir)) assets[`lib/${relative(dir, file)}`] = file;
  writeFileSync(join(dir, "specifiers.json"), JSON.stringify(files));
  assets["lib/specifiers.json"] = join(dir, "specifiers.json");
  return assets;
}

/**
 * The file `specifier` names: for the repository's own packages their source (the
 * `keyward-source` export condition, whether or not this process was started with it), for others
 * what Node resolves.
 */
function sourceFile(specifier: string): string {
  const m = /^(@keyward\/[^/]+)(\/.*)?$/.exec(specifier);
  if (m === null) return fileURLToPath(import.meta.resolve(specifier));
  const dir = realpathSync(join(ROOT, "node_modules", m[1] ?? ""));
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    exports?: Record<string, string | Record<string, string>>;
  };
  const entry = manifest.exports?.[`.${m[2] ?? ""}`];
  const target = typeof entry === "string" ? entry : entry?.["keyward-source"];
  if (target === undefined) throw new Error(`${specifier}: no keyward-source entry in its exports`);
  return join(dir, target);
}

/** A package's importable specifiers: every subpath of its `exports` (no patterns, no package.json). */
function subpathSpecifiers(pkg: string): string[] {
  // A scoped name has two parts (@scope/name), an unscoped one one; anything after is a subpath.
  const parts = pkg.split("/");
  const nameParts = pkg.startsWith("@") ? 2 : 1;
  const base = parts.slice(0, nameParts).join("/");
  if (parts.length > nameParts) return [pkg];
  const manifest = JSON.parse(readFileSync(join(ROOT, "node_modules", base, "package.json"), "utf8")) as {
    exports?: string | Record<string, unknown>;
  };
  const exports = manifest.exports;
  if (exports === undefined || typeof exports === "string") return [base];
  const keys = Object.keys(exports);
  if (!keys.every((k) => k.startsWith("."))) return [base]; // conditions only: one entry
  return keys
    .filter((k) => !k.includes("*") && !k.endsWith(".json"))
    .map((k) => (k === "." ? base : `${base}/${k.slice(2)}`));
}

async function bundleEsm(
  entryPoints: Record<string, string>,
  outdir: string,
  splitting: boolean,
): Promise<void> {
  await esbuild.build({
    entryPoints,
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting,
    chunkNames: "chunk-[hash]",
    platform: "node",
    // The repository's sources, not a package build (docs/architecture.md, "Packages on npm").
    conditions: ["keyward-source"],
    format: "esm",
    target: "node24",
    logLevel: "error",
    external: ["pg-native"],
    banner: { js: ESM_REQUIRE_BANNER },
    // Threads need source order (below); enclave apps drop the warning anyway, and esbuild's
    // CommonJS interop across shared chunks does not survive this rewrite.
    plugins: splitting ? [] : [lazyBuiltins],
  });
}

/**
 * esbuild hoists the imports it leaves external to the top of an ES module bundle, so a
 * built-in would load when the bundle starts rather than when its importer runs, as it does
 * from sources. Order matters: `node:sqlite` warns when it loads, after the thread has installed
 * its filter (sqlite-warning.ts). Each built-in therefore becomes a bundled CommonJS module that
 * requires it, which runs when its importer runs.
 */
const lazyBuiltins: esbuild.Plugin = {
  name: "lazy-builtins",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "require-call"
        ? { path: args.path, external: true }
        : { path: args.path, namespace: "builtin" },
    );
    build.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

/** SHA-256 over everything the executable is made of. */
function inputStamp(main: string, assets: Readonly<Record<string, string>>, strip: boolean): string {
  const h = createHash("sha256");
  const node = statSync(NODE);
  h.update(`${process.version}\0${node.size}\0${node.mtimeMs}\0${strip}\0`);
  h.update(readFileSync(main));
  for (const key of Object.keys(assets).sort()) {
    h.update(`\0${key}\0`);
    h.update(readFileSync(assets[key] as string));
  }
  return h.digest("hex");
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

function run(file: string, args: readonly string[]): void {
  const r = spawnSync(file, args, { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(`${file} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: "string" },
      "no-strip": { type: "boolean" },
      force: { type: "boolean" },
    },
  });
  const [target] = positionals;
  if (target === undefined || positionals.length > 1) {
    console.error(`usage: node scripts/build-sea.ts TARGET [--out FILE] [--no-strip] [--force]
targets: ${Object.keys(TARGETS).join(", ")}`);
    process.exit(2);
  }
  try {
    const r = await buildSea(target, {
      ...(values.out === undefined ? {} : { out: values.out }),
      strip: values["no-strip"] !== true,
      force: values.force === true,
    });
    console.log(
      `${r.built ? "built" : "up to date"}: ${relative(process.cwd(), r.path)} (${(r.bytes / 2 ** 20).toFixed(1)} MiB)`,
    );
  } catch (e) {
    console.error(`build-sea: ${(e as Error).message}`);
    process.exit(1);
  }
}
