/**
 * Starting a worker thread the same way from sources and from a single executable.
 *
 * A worker's module is a file next to its caller when Keyward runs from sources; inside a single
 * executable there is no such file. The build (`scripts/build-sea.ts`) therefore bundles each
 * thread module on its own (ESM, only `node:` built-ins left external) and embeds it as
 * `thread/NAME.mjs`; here it is started from a `data:` URL, which Node's worker loader accepts and
 * evaluates as an ES module (so top-level `await` keeps working). Nothing is written to disk.
 *
 * @module
 */
import { Worker, type WorkerOptions } from "node:worker_threads";
import { embeddedText, isSingleExecutable } from "./embedded.ts";

/**
 * Starts the worker thread `name` whose module is `source`.
 *
 * Call it in exactly this form, with literals, so that the build finds the thread module and
 * embeds it under `name`:
 *
 * @example
 * ```ts
 * const worker = startThread("audit-writer", new URL("./audit-writer-thread.ts", import.meta.url), {
 *   workerData: { path },
 * });
 * ```
 *
 * @param name - the thread's name in the executable (`[a-z0-9-]+`, unique in the build)
 * @param source - the thread module's URL, used when running from sources
 * @throws ERR_INTERNAL when a single executable was built without this thread
 */
export function startThread(name: string, source: URL, options: WorkerOptions = {}): Worker {
  if (!isSingleExecutable()) return new Worker(source, withSourceCondition(options));
  const code = embeddedText(`thread/${name}.mjs`);
  return new Worker(new URL(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`), {
    ...options,
    name,
  });
}

// Run from the repository's sources (this very file is TypeScript), the packages a worker imports
// must resolve to their sources: their `keyward-source` export condition. The process may have
// it from a hook registered on its main thread only (bin/keyward.js started without npm), which
// a worker does not inherit, so it is passed explicitly; installed from npm, nothing is added.
function withSourceCondition(options: WorkerOptions): WorkerOptions {
  if (!import.meta.url.endsWith(".ts")) return options;
  const condition = "--conditions=keyward-source";
  // NODE_OPTIONS applies to every thread of the process: nothing to add.
  if ((process.env.NODE_OPTIONS ?? "").includes(condition)) return options;
  const execArgv = options.execArgv ?? process.execArgv;
  if (execArgv.includes(condition)) return options;
  // A worker given execArgv explicitly refuses process-wide V8 flags (ERR_WORKER_INVALID_EXEC_ARGV,
  // e.g. --max-old-space-size), which it shares with the process anyway: pass the rest.
  const perThread = execArgv.filter(
    (a) => !/^--(max-old-space-size|max-semi-space-size|stack-size)(=|$)/.test(a),
  );
  return { ...options, execArgv: [...perThread, condition] };
}
