/**
 * Following one pod until a decision, the way the API reference asks clients to watch ("API
 * Concepts": Efficient detection of changes): list to get the state and a resourceVersion, watch
 * from that version, resume from the last version seen when the stream ends (API servers end watches
 * routinely), and when the version has been compacted — a `410 Gone`, sent as an ERROR event whose
 * Status has code 410 or as the HTTP status — list again and watch from the new version. Transient
 * failures are retried with a capped backoff; RBAC and credential failures are not.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { type CoreV1Api, type KubeConfig, type V1Pod, Watch } from "@kubernetes/client-node";
import { apiFailureOf, fromStatus, launcherError } from "./kubernetes-errors.ts";

/** What `decide` returns: a result, a failure, or undefined to keep watching. */
export type Verdict<T> = { readonly done: T } | { readonly fail: KeywardError } | undefined;

/** Where the pod is. */
export interface PodWatchContext {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly namespace: string;
}

type Outcome<T> =
  | { readonly kind: "decided"; readonly verdict: NonNullable<Verdict<T>> }
  | { readonly kind: "gone" }
  | { readonly kind: "ended"; readonly rv: string }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "aborted" };

const MAX_TRANSIENT_FAILURES = 6;

/**
 * Watches pod `name` until `decide` returns a verdict (it is also called with `undefined` when the
 * pod does not exist or was deleted).
 * @throws KeywardError the verdict's failure; ERR_LAUNCHER_TIMEOUT when `signal` aborts first (with
 *   `abortMessage`); ERR_LAUNCHER_FORBIDDEN / _UNAUTHENTICATED for RBAC or credentials;
 *   ERR_LAUNCHER_UNAVAILABLE after repeated transient failures
 */
export async function watchPod<T>(
  ctx: PodWatchContext,
  name: string,
  decide: (pod: V1Pod | undefined) => Verdict<T>,
  signal: AbortSignal,
  abortMessage: string,
): Promise<T> {
  const settle = (v: NonNullable<Verdict<T>>): T => {
    if ("fail" in v) throw v.fail;
    return v.done;
  };
  let rv: string | undefined;
  let failures = 0;
  for (;;) {
    if (signal.aborted) throw new KeywardError("ERR_LAUNCHER_TIMEOUT", abortMessage);
    if (rv === undefined) {
      let list: Awaited<ReturnType<CoreV1Api["listNamespacedPod"]>>;
      try {
        list = await ctx.core.listNamespacedPod({
          namespace: ctx.namespace,
          fieldSelector: `metadata.name=${name}`,
        });
      } catch (e) {
        const err = launcherError(e, { verb: "list", resource: "pods", namespace: ctx.namespace });
        if (err.code !== "ERR_LAUNCHER_UNAVAILABLE" || ++failures > MAX_TRANSIENT_FAILURES) throw err;
        await pause(failures, signal);
        continue;
      }
      const v = decide(list.items[0]);
      if (v !== undefined) return settle(v);
      rv = list.metadata?.resourceVersion ?? "0";
    }
    const outcome = await watchOnce(ctx, name, rv, decide, signal);
    switch (outcome.kind) {
      case "decided":
        return settle(outcome.verdict);
      case "gone":
        rv = undefined;
        break;
      case "ended":
        rv = outcome.rv;
        failures = 0;
        break;
      case "aborted":
        throw new KeywardError("ERR_LAUNCHER_TIMEOUT", abortMessage);
      case "error": {
        const f = apiFailureOf(outcome.error);
        if (f?.code === 410) {
          rv = undefined;
          break;
        }
        const err = launcherError(outcome.error, {
          verb: "watch",
          resource: "pods",
          namespace: ctx.namespace,
        });
        if (err.code !== "ERR_LAUNCHER_UNAVAILABLE" || ++failures > MAX_TRANSIENT_FAILURES) throw err;
        await pause(failures, signal);
      }
    }
  }
}

function watchOnce<T>(
  ctx: PodWatchContext,
  name: string,
  rv: string,
  decide: (pod: V1Pod | undefined) => Verdict<T>,
  signal: AbortSignal,
): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    let last = rv;
    let settled = false;
    let controller: AbortController | undefined;
    const finish = (o: Outcome<T>) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      controller?.abort();
      resolve(o);
    };
    const onAbort = () => finish({ kind: "aborted" });
    signal.addEventListener("abort", onAbort);
    new Watch(ctx.kubeConfig)
      .watch(
        `/api/v1/namespaces/${ctx.namespace}/pods`,
        { fieldSelector: `metadata.name=${name}`, resourceVersion: rv, allowWatchBookmarks: true },
        (type: string, object: V1Pod & { code?: number }) => {
          if (settled) return;
          if (type === "ERROR") {
            const f = fromStatus(object.code ?? 500, object);
            finish(
              f.code === 410
                ? { kind: "gone" }
                : { kind: "error", error: Object.assign(new Error(f.message), { statusCode: f.code }) },
            );
            return;
          }
          last = object.metadata?.resourceVersion ?? last;
          if (type === "BOOKMARK") return;
          const v = decide(type === "DELETED" ? undefined : object);
          if (v !== undefined) finish({ kind: "decided", verdict: v });
        },
        (err: unknown) =>
          finish(
            err === null || err === undefined ? { kind: "ended", rv: last } : { kind: "error", error: err },
          ),
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        (err: unknown) => finish({ kind: "error", error: err }),
      );
  });
}

// Backoff for transient failures: 100 ms doubling to 2 s, cut short by the signal.
function pause(attempt: number, signal: AbortSignal): Promise<void> {
  const ms = Math.min(100 * 2 ** (attempt - 1), 2000);
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
