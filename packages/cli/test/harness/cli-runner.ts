/**
 * The parent side of cli-worker.ts: runs `keyward` commands in a long-lived child process with a
 * small heap, each with a time bound (a run over it kills the worker and fails).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The outcome of one run. */
export interface CliRun {
  readonly args: readonly string[];
  /** The exit status main() returned, or why there is none ("timeout", "worker died: SIGKILL", "threw: …"). */
  readonly status: number | string;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident set of the worker so far, KiB. */
  readonly maxRssKiB: number;
}

/** Options of one run. */
export interface RunOptions {
  readonly env?: Readonly<Record<string, string | null>>;
  readonly timeoutMs?: number;
  readonly stopWithSigterm?: boolean;
}

const WORKER = fileURLToPath(new URL("./cli-worker.ts", import.meta.url));

/** A worker, started on first use and restarted after a kill. */
export class CliRunner {
  #child: ChildProcess | undefined;
  #next = 1;
  readonly #heapMiB: number;

  constructor(heapMiB = 256) {
    this.#heapMiB = heapMiB;
  }

  /** Runs `keyward ARGS` in the worker. */
  run(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
    const child = this.#worker();
    const id = this.#next++;
    return new Promise((resolve) => {
      const done = (r: Omit<CliRun, "args">) => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve({ args, ...r });
      };
      const onMessage = (m: { id: number } & Omit<CliRun, "args">) => {
        if (m.id === id) done(m);
      };
      const onExit = (code: number | null, signal: string | null) => {
        this.#child = undefined;
        done({ status: `worker died: ${signal ?? code}`, stdout: "", stderr: "", maxRssKiB: 0 });
      };
      const timer = setTimeout(() => {
        child.off("exit", onExit);
        child.kill("SIGKILL");
        this.#child = undefined;
        done({ status: "timeout", stdout: "", stderr: "", maxRssKiB: 0 });
      }, options.timeoutMs ?? 60_000);
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send({ id, args, env: options.env, stopWithSigterm: options.stopWithSigterm });
    });
  }

  /** Stops the worker. */
  stop(): void {
    this.#child?.kill("SIGKILL");
    this.#child = undefined;
  }

  #worker(): ChildProcess {
    if (this.#child === undefined) {
      this.#child = fork(WORKER, [], {
        execArgv: [`--max-old-space-size=${this.#heapMiB}`, "--disable-warning=ExperimentalWarning"],
        stdio: ["ignore", "ignore", "ignore", "ipc"],
      });
    }
    return this.#child;
  }
}
