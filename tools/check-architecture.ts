/**
 * Fails when an import crosses a line the design draws (docs/architecture.md):
 *
 * - the verification library is pure, only its crypto/ and x509/ call node:crypto, appraisal
 *   never re-verifies, and it never reads the clock, the environment or Math.random;
 * - packages depend downwards (attest, proto → platform → channels → client, server → cli) and meet only
 *   through their `exports` maps; enclave apps (examples/) and channels carry no database driver,
 *   logger or YAML;
 * - inside the server, layers import downwards only (errors → audit → store → ops → kernel →
 *   features → the entry files), features never import each other, the kernel never imports a
 *   feature, and the store's engines never import each other;
 * - nothing is circular, type-only imports included (dynamic `import()`s, lazy loads of a table's
 *   entries, obey every other rule but do not close a cycle).
 *
 * `checkArchitecture(root)` returns the problems; run directly, it checks the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface Rule {
  readonly files: RegExp;
  readonly forbid: RegExp;
  readonly why: string;
}

// Rules on what a file may import by specifier (value imports; a type-only import loads nothing).
const SPECIFIER_RULES: readonly Rule[] = [
  {
    files: /^packages\/attest\/src\//,
    forbid:
      /^(node:(fs|fs\/promises|net|tls|http|https|http2|child_process|dgram|os)|@connectrpc\/|@keyward\/|pg$)/,
    why: "@keyward/attest is pure: bytes, a clock and trust roots in, claims or a KeywardError out",
  },
  {
    files: /^packages\/attest\/src\/(?!crypto\/|x509\/)/,
    forbid: /^node:crypto$/,
    why: "only crypto/ and x509/ talk to node:crypto",
  },
  {
    files: /^packages\/attest\/src\/appraisal\//,
    forbid: /\/(crypto|x509|dcap)\//,
    why: "appraisal decides on claims; it never re-verifies",
  },
  {
    files: /^(packages\/channels\/src\/|packages\/client\/src\/|examples\/)/,
    forbid: /^(@keyward\/(server|cli)(\/|$)|pg$|pino$|yaml$)/,
    why: "enclave apps, @keyward/channels and @keyward/client need no database driver, logger or YAML: attest, platform, channels, proto and client only",
  },
  {
    // Test files are skipped (see checkArchitecture), so this holds for product code only.
    files: /^packages\/(?!testkit\/)/,
    forbid: /^@keyward\/testkit(\/|$)/,
    why: "@keyward/testkit is test-only (contract servers): only tests and bench/ may import it",
  },
  {
    files: /^packages\/testkit\//,
    forbid: /^@keyward\/(server|cli)/,
    why: "@keyward/testkit stands in for outside systems; it never depends on the product it tests",
  },
];

/** Package ranks: a package imports only packages of a lower rank. */
const PACKAGE_RANK: Readonly<Record<string, number>> = {
  attest: 0,
  proto: 0,
  platform: 1,
  channels: 2,
  client: 3,
  server: 3,
  cli: 4,
};

/** The server's layers, lowest first: a file imports only its own layer or lower ones. */
const SERVER_LAYERS: readonly (readonly [string, string])[] = [
  ["errors/", "errors"],
  ["audit/", "audit"],
  ["store/", "store"],
  ["ops/", "ops"],
  ["kernel/", "kernel"],
  ["features/", "features"],
  ["", "entry"],
];
const SERVER_SRC = "packages/server/src/";

function serverLayer(file: string): number | undefined {
  if (!file.startsWith(SERVER_SRC)) return undefined;
  const rest = file.slice(SERVER_SRC.length);
  const i = SERVER_LAYERS.findIndex(([prefix]) =>
    prefix === "" ? !rest.includes("/") : rest.startsWith(prefix),
  );
  return i === -1 ? undefined : i;
}

const FROM = /^\s*(?:import|export)\s+(type\s+)?[^;]*?\bfrom\s*["']([^"']+)["']/gm;
const BARE = /^\s*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** One import of a file. */
export interface ImportEdge {
  readonly spec: string;
  readonly typeOnly: boolean;
  /** `import("…")`: loaded on demand (a command table's entries), not when the importer loads. */
  readonly dynamic: boolean;
}

/** The imports of a source text: static (value or type-only), side-effect and dynamic. */
export function importsOf(source: string): ImportEdge[] {
  const out: ImportEdge[] = [];
  for (const m of source.matchAll(FROM))
    out.push({ spec: m[2] ?? "", typeOnly: m[1] !== undefined, dynamic: false });
  for (const m of source.matchAll(BARE)) out.push({ spec: m[1] ?? "", typeOnly: false, dynamic: false });
  for (const m of source.matchAll(DYNAMIC)) out.push({ spec: m[1] ?? "", typeOnly: false, dynamic: true });
  return out;
}

/** The problems of the tree at `root` (paths in messages are relative to it). */
export function checkArchitecture(root: string): string[] {
  const problems: string[] = [];
  const packages = readPackages(root);
  const files = ["packages", "examples", "tools", "bench", "scripts"]
    .filter((d) => existsSync(join(root, d)))
    .flatMap((d) => [...walk(root, d)]);
  const graph = new Map<string, string[]>();

  for (const file of files) {
    const source = readFileSync(join(root, file), "utf8");
    const edges: string[] = [];
    const pkg = packageOf(file);
    for (const { spec, typeOnly, dynamic } of importsOf(source)) {
      if (!typeOnly && !/\.test\.ts$|\/test\//.test(file))
        for (const rule of SPECIFIER_RULES)
          if (rule.files.test(file) && rule.forbid.test(spec))
            problems.push(`${file}: imports "${spec}" — ${rule.why}`);
      const target = resolveImport(root, file, spec, packages, problems);
      if (target === undefined) continue;
      // A dynamic import is a lazy load (a table of commands loaded on demand): it obeys every
      // other rule, but a module reached only that way does not load its loader back in a cycle.
      if (!dynamic) edges.push(target);
      const targetPkg = packageOf(target);
      if (pkg !== undefined && targetPkg !== undefined && pkg !== targetPkg) {
        if (spec.startsWith(".") && !/\/test\//.test(file))
          problems.push(`${file}: imports "${spec}" — packages meet only through their exports maps`);
        const a = PACKAGE_RANK[pkg];
        const b = PACKAGE_RANK[targetPkg];
        if (a !== undefined && b !== undefined && b >= a)
          problems.push(
            `${file}: imports @keyward/${targetPkg} — dependencies point down (attest, proto → platform → channels → client, server → cli)`,
          );
      }
      serverRules(file, target, problems);
    }
    graph.set(file, edges);
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${[...cycle, cycle[0]].join(" → ")}`);
  return problems;
}

function serverRules(file: string, target: string, problems: string[]): void {
  const from = serverLayer(file);
  const to = serverLayer(target);
  if (from === undefined || to === undefined) return;
  const feature = (p: string) => /^packages\/server\/src\/features\/([^/]+)\//.exec(p)?.[1];
  const engine = (p: string) => /^packages\/server\/src\/store\/(sqlite|postgres)\//.exec(p)?.[1];
  const [fromName] = SERVER_LAYERS[from] ?? [];
  if (fromName === "kernel/" && feature(target) !== undefined)
    problems.push(`${file}: imports ${target} — the kernel never imports a feature`);
  else if (to > from)
    problems.push(
      `${file}: imports ${target} — upward import (${SERVER_LAYERS[from]?.[1]} may import only errors → audit → store → ops → kernel → features below it)`,
    );
  const fa = feature(file);
  const fb = feature(target);
  if (fa !== undefined && fb !== undefined && fa !== fb)
    problems.push(`${file}: imports ${target} — features never import each other`);
  const ea = engine(file);
  const eb = engine(target);
  if (ea !== undefined && eb !== undefined && ea !== eb)
    problems.push(`${file}: imports ${target} — store engines never import each other`);
}

function packageOf(file: string): string | undefined {
  return /^packages\/([^/]+)\//.exec(file)?.[1];
}

interface PackageInfo {
  readonly dir: string;
  readonly exports: Readonly<Record<string, string>>;
}

function readPackages(root: string): Map<string, PackageInfo> {
  const out = new Map<string, PackageInfo>();
  if (!existsSync(join(root, "packages"))) return out;
  for (const dir of readdirSync(join(root, "packages"))) {
    const path = join(root, "packages", dir, "package.json");
    if (!existsSync(path)) continue;
    const json = JSON.parse(readFileSync(path, "utf8")) as {
      name?: string;
      exports?: Record<string, string | Record<string, string>>;
    };
    // An entry is a path, or conditions whose `keyward-source` names the source the repository runs.
    const exports: Record<string, string> = {};
    for (const [key, target] of Object.entries(json.exports ?? {})) {
      const source = typeof target === "string" ? target : target["keyward-source"];
      if (source !== undefined) exports[key] = source;
    }
    if (json.name !== undefined) out.set(json.name, { dir: `packages/${dir}`, exports });
  }
  return out;
}

// The repository file an import names, or undefined for node: and third-party modules.
function resolveImport(
  root: string,
  file: string,
  spec: string,
  packages: Map<string, PackageInfo>,
  problems: string[],
): string | undefined {
  if (spec.startsWith(".")) {
    const target = relative(root, resolve(root, dirname(file), spec));
    return existsSync(join(root, target)) && statSync(join(root, target)).isFile() ? target : undefined;
  }
  const m = /^(@keyward\/[^/]+)(\/.*)?$/.exec(spec);
  if (m === null) return undefined;
  const pkg = packages.get(m[1] ?? "");
  if (pkg === undefined) return undefined;
  const key = `.${m[2] ?? ""}`;
  const entry = pkg.exports[key];
  if (entry === undefined) {
    problems.push(
      `${file}: imports "${spec}" — not an entry point of ${m[1]} (packages meet only through their exports maps)`,
    );
    return undefined;
  }
  return join(pkg.dir, entry);
}

// Strongly connected components (Tarjan) with more than one file, or a file importing itself.
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indices.get(w) as number));
    }
    if (low.get(v) === indices.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.reverse());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) visit(v);
  return out;
}

function* walk(root: string, dir: string): Generator<string> {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      // gen/: generated code; dist/: a package build, there only while `npm pack` runs.
      if (entry.name !== "gen" && entry.name !== "dist") yield* walk(root, path);
    } else if (path.endsWith(".ts")) yield path;
  }
}

// One way to read a file: the bounded reader of @keyward/platform/io (docs/security.md, "Reading
// input"): the CLI, the platform and the service alike.
function checkFileReads(root: string, problems: string[]): void {
  for (const dir of ["packages/cli/src", "packages/platform/src", "packages/server/src"]) {
    if (!existsSync(join(root, dir))) continue;
    for (const file of walk(root, dir)) {
      if (/\.test\.ts$/.test(file) || file.startsWith("packages/platform/src/io/")) continue;
      if (/\b(readFileSync|readFile|createReadStream)\s*\(/.test(readFileSync(join(root, file), "utf8")))
        problems.push(
          `${file}: reads a file directly — use readFileBounded/readTextBounded from @keyward/platform/io`,
        );
    }
  }
}

function checkTheClockAndEnvironment(root: string, problems: string[]): void {
  if (!existsSync(join(root, "packages/attest/src"))) return;
  for (const file of walk(root, "packages/attest/src")) {
    if (/\.test\.ts$/.test(file)) continue;
    const source = readFileSync(join(root, file), "utf8");
    if (/\b(Math\.random|Date\.now)\(|\bprocess\.env\b|new Date\(\)/.test(source))
      problems.push(
        `${file}: reads the clock, the environment or Math.random — the library takes them as input`,
      );
  }
}

/** Every problem of the tree at `root`, the purity of the library's clock and environment included. */
export function checkAll(root: string): string[] {
  const problems = checkArchitecture(root);
  checkTheClockAndEnvironment(root, problems);
  checkFileReads(root, problems);
  return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkAll(process.cwd());
  if (problems.length > 0) {
    process.stderr.write(`${problems.join("\n")}\n`);
    process.exitCode = 1;
  }
}
