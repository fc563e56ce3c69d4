/**
 * Running an ES module (a TypeScript enclave app) in a child process, from sources and from a
 * single executable alike.
 *
 * From sources the child is `node --disable-warning=ExperimentalWarning --conditions=keyward-source
 * ENTRY ARGS…` (the condition only when running from the repository's sources). A single
 * executable has no separate `node` binary, so it starts itself with a reserved first argument
 * ({@link RUN_MODULE_ARG}); its main script sees that argument before the command tree and calls
 * {@link runChildModule}, which turns the process into a plain Node runtime for ENTRY: the same
 * warning filter, `process.argv` as `node ENTRY ARGS…` would give, Node's own ESM loader (type
 * stripping included) for the app's files. The library modules an enclave app imports
 * (`@keyward/platform/enclave`, `@keyward/attest/…`, Connect, …) come from the executable
 * itself (`lib/` assets), so the launcher and the SDK in the app always speak the same channel
 * protocol; any other specifier resolves from disk as Node resolves it.
 *
 * What the launcher measures (manifest, trusted files, entry point, arguments) does not depend on
 * how the child is started.
 *
 * @module
 */
import { registerHooks } from "node:module";
import { resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import vm from "node:vm";
import { embeddedText, isSingleExecutable } from "./embedded.ts";

/** The reserved first argument that makes a Keyward single executable run a module. */
export const RUN_MODULE_ARG = "--keyward-internal-run-module";

const SCHEME = "keyward-embedded:";

/** How to start a child process that runs a module: `spawn(file, args)`. */
export interface ModuleCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/**
 * The command that runs the ES module `entry` (an absolute path) with `args` in a child process.
 * @example
 * ```ts
 * const { file, args } = moduleCommand("/apps/hello/app.ts", ["--mode", "hello"]);
 * spawn(file, args, { cwd: "/apps/hello" });
 * ```
 */
export function moduleCommand(entry: string, args: readonly string[]): ModuleCommand {
  if (isSingleExecutable()) return { file: process.execPath, args: [RUN_MODULE_ARG, entry, ...args] };
  return {
    file: process.execPath,
    args: ["--disable-warning=ExperimentalWarning", ...SOURCE_CONDITION, entry, ...args],
  };
}

// Run from the repository's sources (this very file is TypeScript), the packages the child
// imports must resolve to their sources too: their `keyward-source` export condition. The
// launcher gives the child a clean environment, so NODE_OPTIONS cannot carry it; installed
// from npm (compiled), packages resolve to their builds and nothing is added.
const SOURCE_CONDITION: readonly string[] = import.meta.url.endsWith(".ts")
  ? ["--conditions=keyward-source"]
  : [];

/**
 * Inside a single executable started by {@link moduleCommand}: runs `entry` with `args` as
 * `node` would run it, and sets `process.exitCode` to 1 when loading or evaluating it throws
 * (after printing the error, as Node does for an uncaught exception).
 *
 * @param argv - what follows {@link RUN_MODULE_ARG}: ENTRY, then its arguments
 */
export async function runChildModule(argv: readonly string[]): Promise<void> {
  const [entry, ...args] = argv;
  if (entry === undefined) {
    process.stderr.write(`${RUN_MODULE_ARG}: the module to run is missing\n`);
    process.exitCode = 2;
    return;
  }
  const file = resolvePath(entry);
  dropExperimentalWarnings();
  serveEmbeddedLibraries();
  process.argv = [process.execPath, file, ...args];
  // The main script of a single executable cannot import() files; a script compiled with Node's
  // default loader can (vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER, Node ≥ 21.7).
  const importModule = new vm.Script("(url) => import(url)", {
    filename: "keyward-run-module",
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }).runInThisContext() as (url: string) => Promise<unknown>;
  try {
    await importModule(pathToFileURL(file).href);
  } catch (e) {
    process.stderr.write(`${inspect(e)}\n`);
    process.exitCode = 1;
  }
}

/** What `--disable-warning=ExperimentalWarning` does, for a process that cannot take the flag. */
function dropExperimentalWarnings(): void {
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === "ExperimentalWarning" || (warning as Error).name === "ExperimentalWarning") return;
    return (emit as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
}

/** Serves the bare specifiers listed in `lib/specifiers.json` from the executable's `lib/` assets. */
function serveEmbeddedLibraries(): void {
  let files: Record<string, string>;
  try {
    files = JSON.parse(embeddedText("lib/specifiers.json")) as Record<string, string>;
  } catch {
    return; // a build without enclave libraries: everything resolves from disk
  }
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const file = Object.hasOwn(files, specifier) ? files[specifier] : undefined;
      if (file !== undefined) return { url: `${SCHEME}///lib/${file}`, format: "module", shortCircuit: true };
      // The library's chunks import each other relatively; built-ins go on to Node.
      if (context.parentURL?.startsWith(SCHEME) && /^\.\.?\//.test(specifier)) {
        return { url: new URL(specifier, context.parentURL).href, format: "module", shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
    load(url, context, nextLoad) {
      if (!url.startsWith(SCHEME)) return nextLoad(url, context);
      const key = new URL(url).pathname.slice(1); // "lib/…"
      return { format: "module", source: embeddedText(key), shortCircuit: true };
    },
  });
}
