/**
 * Builds workspaces for npm: each package's `src/` and `bin/` (tests left out) to `dist/`, as
 * JavaScript, declarations and source maps, with the TypeScript compiler:
 *
 *   node tools/build-packages.ts [PACKAGE-DIR...]   (no argument: every workspace)
 *
 *   node tools/build-packages.ts --clean [PACKAGE-DIR...]   removes those `dist/` directories
 *
 * A named package is built after the workspaces it depends on (their `dist/` declarations are
 * what it is checked against: a package meets its dependencies as a consumer will). The list and
 * the order come from the root `workspaces` and each package's dependencies, so a new package needs
 * no entry here. Each package's `prepack` runs this for itself, so `npm pack` and `npm publish`
 * always ship a fresh build, and its `postpack` removes the `dist/` directories again: in the
 * repository a stale build could otherwise answer for the sources wherever Node runs without the
 * `keyward-source` condition. Builds are kept in `node_modules/.cache/keyward-build/`, keyed by a
 * digest of their inputs (sources, data, configuration, the compiler's version and the builds of
 * the dependencies), so an unchanged package is copied back instead of compiled again.
 *
 * The repository runs from sources (the `keyward-source` export condition, docs/architecture.md);
 * what the emitted code must differ in, the build rewrites:
 *
 * - relative `.ts` import specifiers become `.js`, in JavaScript (`rewriteRelativeImportExtensions`)
 *   and in declarations (a consumer's `tsc` then needs no `allowImportingTsExtensions`);
 * - `new URL("./x.ts", import.meta.url)` naming a compiled module (a worker thread's) becomes `./x.js`;
 * - a directory opened with `openBundledDirectory("NAME", new URL("REL", import.meta.url))` (data a
 *   command reads at run time, such as the demo's real quotes) is copied to `dist/bundled/NAME/`
 *   and the URL rewritten to it, as the single-executable build embeds it (scripts/build-sea.ts);
 * - other files under `src/` (JSON data) are copied beside the emitted code; a JSON file imported
 *   from above `src/` (the package's package.json) is read where it is, never copied.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { findDirectories } from "../scripts/build-sea.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CACHE = join(ROOT, "node_modules", ".cache", "keyward-build");

/** One workspace, as its package.json describes it. */
export interface Workspace {
  /** Absolute directory. */
  readonly dir: string;
  readonly name: string;
  /** Names of the workspaces it depends on (any kind of dependency). */
  readonly needs: readonly string[];
}

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** The root's workspaces in dependency order (a package after everything it needs). */
export function workspaces(root: string = ROOT): Workspace[] {
  const rootManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    workspaces?: string[];
  };
  const all = (rootManifest.workspaces ?? []).map((w) => {
    const dir = resolve(root, w);
    const m = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
    if (m.name === undefined) throw new Error(`${w}/package.json has no name`);
    const deps = {
      ...m.dependencies,
      ...m.devDependencies,
      ...m.peerDependencies,
      ...m.optionalDependencies,
    };
    return { dir, name: m.name, deps: Object.keys(deps) };
  });
  const names = new Set(all.map((w) => w.name));
  const byName = new Map(all.map((w) => [w.name, { ...w, needs: w.deps.filter((d) => names.has(d)) }]));
  const ordered: Workspace[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: readonly string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting")
      throw new Error(`workspaces depend in a cycle: ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    const w = byName.get(name) as Workspace;
    for (const d of w.needs) visit(d, [...path, name]);
    state.set(name, "done");
    ordered.push({ dir: w.dir, name: w.name, needs: w.needs });
  };
  for (const w of all) visit(w.name, []);
  return ordered;
}

/** The package's own TypeScript inputs: `src/` and `bin/`, without tests. */
function inputsOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && e.name !== "test" && !e.name.startsWith(".")) walk(p);
      } else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts"))
        out.push(p);
    }
  };
  for (const sub of ["src", "bin"]) if (existsSync(join(dir, sub))) walk(join(dir, sub));
  return out.sort();
}

/** Non-TypeScript files under `src/` (data read at run time), copied beside the emitted code. */
function assetsOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith(".ts")) out.push(p);
    }
  };
  if (existsSync(join(dir, "src"))) walk(join(dir, "src"));
  return out.sort();
}

/** The repository's compiler options, turned from type-checking sources to emitting `dist/`. */
function compilerOptions(dir: string): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (parsed === undefined) throw new Error("cannot read tsconfig.json");
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: false,
    allowImportingTsExtensions: false,
    rewriteRelativeImportExtensions: true,
    declaration: true,
    declarationMap: true,
    sourceMap: true,
    rootDir: dir,
    outDir: join(dir, "dist"),
    // Other workspaces are met through their built declarations, as a consumer meets them.
    customConditions: [],
    incremental: false,
    composite: false,
  };
  delete options.tsBuildInfoFile;
  return options;
}

type Rewrite = (file: string, literal: string) => string | undefined;

/** Rewrites relative `.ts` specifiers of import and export declarations and `import()` types. */
function declarationSpecifiers(context: ts.TransformationContext): ts.Transformer<ts.SourceFile | ts.Bundle> {
  const f = context.factory;
  const fix = (s: ts.Expression | undefined) =>
    s !== undefined &&
    ts.isStringLiteral(s) &&
    /^\.\.?\//.test(s.text) &&
    s.text.endsWith(".ts") &&
    !s.text.endsWith(".d.ts")
      ? f.createStringLiteral(`${s.text.slice(0, -3)}.js`)
      : s;
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node))
      return f.updateImportDeclaration(
        node,
        node.modifiers,
        node.importClause,
        fix(node.moduleSpecifier) as ts.Expression,
        node.attributes,
      );
    if (ts.isExportDeclaration(node))
      return f.updateExportDeclaration(
        node,
        node.modifiers,
        node.isTypeOnly,
        node.exportClause,
        fix(node.moduleSpecifier),
        node.attributes,
      );
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const lit = fix(node.argument.literal as ts.Expression) as ts.StringLiteral;
      const updated = f.updateImportTypeNode(
        node,
        f.updateLiteralTypeNode(node.argument, lit),
        node.attributes,
        node.qualifier,
        node.typeArguments,
        node.isTypeOf,
      );
      return ts.visitEachChild(updated, visit, context);
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (node) => (ts.isSourceFile(node) ? (ts.visitNode(node, visit) as ts.SourceFile) : node);
}

/**
 * Rewrites `new URL("LITERAL", import.meta.url)` where `url` has a replacement, and the
 * specifier of a JSON import where `json` has one.
 */
function locations(url: Rewrite, json: Rewrite): ts.TransformerFactory<ts.SourceFile> {
  return (context) => (sourceFile) => {
    const f = context.factory;
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const replaced = json(sourceFile.fileName, node.moduleSpecifier.text);
        if (replaced !== undefined)
          return f.updateImportDeclaration(
            node,
            node.modifiers,
            node.importClause,
            f.createStringLiteral(replaced),
            node.attributes,
          );
      }
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === "URL" &&
        node.arguments?.length === 2 &&
        ts.isStringLiteral(node.arguments[0] as ts.Expression) &&
        (node.arguments[1] as ts.Expression).getText(sourceFile) === "import.meta.url"
      ) {
        const literal = (node.arguments[0] as ts.StringLiteral).text;
        const replaced = url(sourceFile.fileName, literal);
        if (replaced !== undefined)
          return f.updateNewExpression(node, node.expression, node.typeArguments, [
            f.createStringLiteral(replaced),
            node.arguments[1] as ts.Expression,
          ]);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit) as ts.SourceFile;
  };
}

function hashInputs(w: Workspace, inputs: readonly string[], extra: readonly string[]): string {
  const h = createHash("sha256");
  h.update(`${ts.version}\n`);
  for (const file of [
    ...inputs,
    join(w.dir, "package.json"),
    join(ROOT, "tsconfig.json"),
    fileURLToPath(import.meta.url),
    ...extra,
  ]) {
    h.update(`${relative(ROOT, file)}\n`);
    h.update(readFileSync(file));
  }
  for (const name of w.needs) h.update(`${name}:${readStamp(name) ?? "none"}\n`);
  return h.digest("hex");
}

const cacheOf = (name: string) => join(CACHE, name.replace(/[^a-zA-Z0-9]+/g, "_"));
function readStamp(name: string): string | undefined {
  const file = join(cacheOf(name), "stamp");
  return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out.sort();
}

/** What one package build did. */
export interface PackageBuild {
  readonly name: string;
  readonly built: boolean;
}

/**
 * Builds one workspace to its `dist/` (removed first), unless its inputs and its dependencies'
 * builds are those of the last build and `dist/` is still there.
 * @throws Error listing the compiler's diagnostics when the package does not compile
 */
export function buildPackage(w: Workspace): PackageBuild {
  const inputs = inputsOf(w.dir);
  const bundled = findDirectories(inputs);
  const assets = assetsOf(w.dir);
  const bundledFiles = [...bundled.values()].flatMap((d) => filesUnder(d));
  const stamp = hashInputs(w, inputs, [...assets, ...bundledFiles]);
  const dist = join(w.dir, "dist");
  const cached = join(cacheOf(w.name), "dist");
  rmSync(dist, { recursive: true, force: true });
  if (readStamp(w.name) === stamp && existsSync(cached)) {
    cpSync(cached, dist, { recursive: true });
    return { name: w.name, built: false };
  }

  const options = compilerOptions(w.dir);
  const program = ts.createProgram({ rootNames: inputs, options });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const emitted = new Set(inputs);
  const bundledUrl = new Map<string, string>(); // directory (with separator) → NAME
  for (const [name, path] of bundled) bundledUrl.set(path.endsWith(sep) ? path : `${path}${sep}`, name);
  const outOf = (source: string) => join(dist, relative(w.dir, source));
  const rewrite: Rewrite = (file, literal) => {
    if (!/^\.\.?\//.test(literal)) return undefined;
    const target = fileURLToPath(new URL(literal, pathToFileURL(file)));
    if (literal.endsWith(".ts") && emitted.has(target)) return `${literal.slice(0, -3)}.js`;
    const name = bundledUrl.get(target.endsWith(sep) ? target : `${target}${sep}`);
    if (name === undefined) return undefined;
    const rel = relative(dirname(outOf(file)), join(dist, "bundled", name))
      .split(sep)
      .join("/");
    return `${rel.startsWith(".") ? rel : `./${rel}`}/`;
  };
  // A JSON file above src/ (the package's own package.json, read for its version) is imported
  // from where it is, not from a copy in dist/: a package.json there would start a package scope
  // of its own for everything under dist/.
  const emittedTree = (path: string) =>
    [join(w.dir, "src"), join(w.dir, "bin")].some((d) => path.startsWith(`${d}${sep}`));
  const json: Rewrite = (file, literal) => {
    if (!/^\.\.?\//.test(literal) || !literal.endsWith(".json")) return undefined;
    const target = resolve(dirname(file), literal);
    if (emittedTree(target)) return undefined;
    const rel = relative(dirname(outOf(file)), target)
      .split(sep)
      .join("/");
    return rel.startsWith(".") ? rel : `./${rel}`;
  };
  const write: ts.WriteFileCallback = (name, text) => {
    if (name.endsWith(".json") && !emittedTree(join(w.dir, relative(dist, name)))) return;
    mkdirSync(dirname(name), { recursive: true });
    writeFileSync(name, text);
  };
  const result = program.emit(undefined, write, undefined, false, {
    before: [locations(rewrite, json)],
    afterDeclarations: [declarationSpecifiers],
  });
  const all = [...diagnostics, ...result.diagnostics];
  if (all.some((d) => d.category === ts.DiagnosticCategory.Error))
    throw new Error(
      ts.formatDiagnostics(all, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => ROOT,
        getNewLine: () => "\n",
      }),
    );
  for (const asset of assets) {
    mkdirSync(dirname(outOf(asset)), { recursive: true });
    cpSync(asset, outOf(asset));
  }
  for (const [name, path] of bundled) cpSync(path, join(dist, "bundled", name), { recursive: true });
  rmSync(cacheOf(w.name), { recursive: true, force: true });
  mkdirSync(cacheOf(w.name), { recursive: true });
  cpSync(dist, cached, { recursive: true });
  writeFileSync(join(cacheOf(w.name), "stamp"), `${stamp}\n`);
  return { name: w.name, built: true };
}

/** The workspaces in `dirs` (all when empty) and what they depend on, in dependency order. */
function selected(dirs: readonly string[]): Workspace[] {
  const all = workspaces();
  const byName = new Map(all.map((w) => [w.name, w]));
  const wanted = new Set<string>();
  const want = (w: Workspace) => {
    if (wanted.has(w.name)) return;
    wanted.add(w.name);
    for (const d of w.needs) want(byName.get(d) as Workspace);
  };
  for (const d of dirs) {
    const w = all.find((x) => x.dir === resolve(d));
    if (w === undefined) throw new Error(`${d} is not a workspace of ${ROOT}`);
    want(w);
  }
  return all.filter((w) => dirs.length === 0 || wanted.has(w.name));
}

/** Builds the workspaces in `dirs` (all when empty) and what they depend on, in order. */
export function buildPackages(dirs: readonly string[]): PackageBuild[] {
  return selected(dirs).map(buildPackage);
}

/** Removes the `dist/` of the workspaces in `dirs` (all when empty) and of what they depend on. */
export function cleanPackages(dirs: readonly string[]): void {
  for (const w of selected(dirs)) rmSync(join(w.dir, "dist"), { recursive: true, force: true });
}

if (import.meta.main) {
  try {
    const args = process.argv.slice(2);
    if (args[0] === "--clean") cleanPackages(args.slice(1));
    else
      for (const b of buildPackages(args))
        process.stderr.write(`${b.built ? "built" : "cached"}: ${b.name}\n`);
  } catch (e) {
    process.stderr.write(`build-packages: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
