/**
 * The local enclave launcher: each enclave is the licensed app (examples/licensed-app) run by the
 * simulated enclave launcher (`@keyward/platform/launcher`, which plays the CPU: it measures the
 * app and quotes for it), as a child process of the licensing server. For development, tests, the
 * demo and benchmarks; a deployment uses the Kubernetes launcher.
 *
 * An enclave is ready when it printed `{"ready":{"port":N}}` on its standard output — it does so
 * after its TLS listener is bound and it registered its certificate. Its address is 127.0.0.1:N.
 * Enclaves end with the server (they are its children), so after a restart there are no orphans of
 * this launcher; `collectOrphans` still stops any it holds that are no longer wanted.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { EnclaveManifest, RunningEnclave } from "@keyward/platform/launcher";
import { launchEnclave } from "@keyward/platform/launcher";
import type { SimPlatform } from "@keyward/platform/sim";
import type { EnclaveInstance, EnclaveLauncher, LaunchRequest, StillActive, StopReason } from "./launcher.ts";

/** Options of {@link LocalLauncher}. */
export interface LocalLauncherOptions {
  readonly manifest: EnclaveManifest;
  readonly platform: SimPlatform;
  /** How long an enclave may take to become ready, in milliseconds (default 30000). */
  readonly readyTimeoutMs?: number;
  /** Where the enclaves' diagnostics (standard error) go; default: dropped. */
  readonly onStderr?: (id: string, line: string) => void;
}

interface Held {
  instance: EnclaveInstance;
  readonly running: RunningEnclave;
}

const MAX_LINE = 64 * 1024;

/** Runs enclaves as simulated-enclave child processes. */
export class LocalLauncher implements EnclaveLauncher {
  readonly #o: LocalLauncherOptions;
  readonly #held = new Map<string, Held>();

  constructor(options: LocalLauncherOptions) {
    this.#o = options;
  }

  async launch(
    request: LaunchRequest,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<EnclaveInstance> {
    const instance = request.instance ?? "0";
    for (const h of this.#held.values()) {
      const i = h.instance;
      if (
        i.userId === request.userId &&
        i.licenceId === request.licenceId &&
        i.instance === instance &&
        i.state === "ready"
      )
        return i;
    }
    const id = `local-${randomBytes(8).toString("hex")}`;
    const running = launchEnclave({
      manifest: this.#o.manifest,
      platform: this.#o.platform,
      args: request.enclave.args ?? [],
      env: request.enclave.env ?? {},
      output: "pipe",
    });
    const held: Held = {
      instance: {
        id,
        userId: request.userId,
        licenceId: request.licenceId,
        instance,
        state: "starting",
        address: undefined,
      },
      running,
    };
    this.#held.set(id, held);
    running.child.stderr?.setEncoding("utf8");
    running.child.stderr?.on("data", (d: string) => {
      for (const line of d.split("\n")) if (line !== "") this.#o.onStderr?.(id, line.slice(0, MAX_LINE));
    });
    void running.exited.then((status) => {
      held.instance = { ...held.instance, state: "terminated", reason: `exited with status ${status}` };
    });
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.#o.readyTimeoutMs ?? 30_000),
      ...(options.signal === undefined ? [] : [options.signal]),
    ]);
    try {
      const port = await readyPort(running, signal);
      held.instance = { ...held.instance, state: "ready", address: { host: "127.0.0.1", port } };
      return held.instance;
    } catch (e) {
      await this.stop(id, "failed");
      throw e;
    }
  }

  async stop(id: string, _reason: StopReason): Promise<void> {
    const held = this.#held.get(id);
    if (held === undefined) return;
    this.#held.delete(id);
    const { child, exited } = held.running;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(killer);
  }

  async list(
    filter: { readonly userId?: string; readonly licenceId?: string } = {},
  ): Promise<EnclaveInstance[]> {
    return [...this.#held.values()]
      .map((h) => h.instance)
      .filter(
        (i) =>
          (filter.userId === undefined || i.userId === filter.userId) &&
          (filter.licenceId === undefined || i.licenceId === filter.licenceId),
      );
  }

  async collectOrphans(stillActive: StillActive): Promise<EnclaveInstance[]> {
    const stopped: EnclaveInstance[] = [];
    for (const i of await this.list()) {
      if (i.state === "terminated" || !(await stillActive(i))) {
        await this.stop(i.id, "orphaned");
        stopped.push(i);
      }
    }
    return stopped;
  }
}

// The enclave's `{"ready":{"port":N}}` line, or why it never came.
function readyPort(running: RunningEnclave, signal: AbortSignal): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const out = running.child.stdout;
    if (out === null)
      return reject(new KeywardError("ERR_LAUNCHER_START_FAILED", "the enclave has no output"));
    let buffered = "";
    const done = () => {
      out.off("data", onData);
      signal.removeEventListener("abort", onAbort);
    };
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      if (buffered.length > MAX_LINE) buffered = buffered.slice(-MAX_LINE);
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
        try {
          const port = (JSON.parse(line) as { ready?: { port?: unknown } }).ready?.port;
          if (typeof port === "number" && Number.isInteger(port) && port > 0 && port < 65536) {
            done();
            return resolve(port);
          }
        } catch {
          // Not the ready line.
        }
      }
    };
    const onAbort = () => {
      done();
      reject(
        new KeywardError(
          signal.reason instanceof DOMException && signal.reason.name === "TimeoutError"
            ? "ERR_LAUNCHER_TIMEOUT"
            : "ERR_LAUNCHER_START_FAILED",
          "the enclave did not become ready",
        ),
      );
    };
    out.on("data", onData);
    signal.addEventListener("abort", onAbort, { once: true });
    void running.exited.then((status) => {
      done();
      reject(
        new KeywardError(
          "ERR_LAUNCHER_START_FAILED",
          `the enclave exited with status ${status} before it was ready`,
        ),
      );
    });
  });
}
