/**
 * The Kubernetes enclave launcher: one Pod per user enclave, created with `@kubernetes/client-node`,
 * watched until Ready, deleted on revocation, expiry or logout, and garbage-collected after a
 * restart when its user or licence is no longer active.
 *
 * It needs, in its namespace only: pods `create`, `get`, `list`, `watch`, `delete` (the Role that
 * `keyward deploy kubernetes --licensing` prints), plus `get` on its own Deployment when it names an
 * owner. A missing permission is ERR_LAUNCHER_FORBIDDEN naming the verb and resource to grant.
 *
 * @module
 */
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1OwnerReference,
  type V1Pod,
} from "@kubernetes/client-node";
import { apiFailureOf, launcherError } from "./kubernetes-errors.ts";
import {
  checkRequest,
  checkSettings,
  enclavePod,
  instanceOf,
  isReady,
  isSameEnclave,
  type PodSettings,
  podName,
  selectorOf,
  startFailure,
} from "./kubernetes-pod.ts";
import { type PodWatchContext, watchPod } from "./kubernetes-watch.ts";
import type { EnclaveInstance, EnclaveLauncher, LaunchRequest, StillActive, StopReason } from "./launcher.ts";

/** Options of {@link KubernetesLauncher}. */
export interface KubernetesLauncherOptions extends PodSettings {
  /** Cluster access: `loadFromCluster()` inside a pod, a kubeconfig file outside. */
  readonly kubeConfig: KubeConfig;
  /** How long a launch may take to become Ready, in milliseconds (default 120000). */
  readonly readyTimeoutMs?: number;
  /** How long a stop may take until the pod is gone, in milliseconds (default 60000). */
  readonly stopTimeoutMs?: number;
}

/** Runs enclaves as Pods. */
export class KubernetesLauncher implements EnclaveLauncher {
  readonly #o: KubernetesLauncherOptions;
  readonly #core: CoreV1Api;
  readonly #ctx: PodWatchContext;

  /** @throws KeywardError ERR_LAUNCHER_CONFIG for invalid options */
  constructor(options: KubernetesLauncherOptions) {
    checkSettings(options);
    this.#o = options;
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#ctx = { kubeConfig: options.kubeConfig, core: this.#core, namespace: options.namespace };
  }

  async launch(
    request: LaunchRequest,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<EnclaveInstance> {
    checkRequest(request);
    const timeoutMs = this.#o.readyTimeoutMs ?? 120_000;
    const signal = AbortSignal.any([
      AbortSignal.timeout(timeoutMs),
      ...(options.signal === undefined ? [] : [options.signal]),
    ]);
    const name = podName(this.#o.launcherId, request);
    const created = await this.#createOrReuse(request, name, signal);
    try {
      const pod = await watchPod(
        this.#ctx,
        name,
        (p) => {
          if (p === undefined || (created.uid !== undefined && p.metadata?.uid !== created.uid))
            return {
              fail: new KeywardError(
                "ERR_LAUNCHER_START_FAILED",
                `enclave pod ${name} was deleted while starting`,
                { detail: { pod: name } },
              ),
            };
          const failure = startFailure(p);
          if (failure !== undefined)
            return {
              fail: new KeywardError(
                "ERR_LAUNCHER_START_FAILED",
                `enclave pod ${name} cannot start: ${failure}`,
                { detail: { pod: name, reason: failure } },
              ),
            };
          return isReady(p) ? { done: p } : undefined;
        },
        signal,
        `enclave pod ${name} was not ready within ${timeoutMs} ms`,
      );
      return instanceOf(pod, request.enclave.port);
    } catch (e) {
      // A launch that failed leaves nothing behind: the pod it created (or found dead) is removed.
      if (created.fresh || (isKeywardError(e) && e.code === "ERR_LAUNCHER_START_FAILED"))
        await this.#delete(name, 0, created.uid).catch(() => undefined);
      throw e;
    }
  }

  async stop(id: string, reason: StopReason): Promise<void> {
    // A revoked or expired licence gets no grace beyond a second; other stops the configured one.
    const grace = reason === "revoked" || reason === "expired" ? 1 : (this.#o.gracePeriodSeconds ?? 10);
    const uid = await this.#delete(id, grace);
    if (uid === undefined) return;
    const timeoutMs = this.#o.stopTimeoutMs ?? 60_000;
    await watchPod(
      this.#ctx,
      id,
      (p) => (p === undefined || p.metadata?.uid !== uid ? { done: undefined } : undefined),
      AbortSignal.timeout(timeoutMs),
      `enclave pod ${id} was not gone within ${timeoutMs} ms`,
    );
  }

  async list(
    filter: { readonly userId?: string; readonly licenceId?: string } = {},
  ): Promise<EnclaveInstance[]> {
    return (await this.#pods(filter)).map((p) => instanceOf(p, undefined));
  }

  async collectOrphans(stillActive: StillActive): Promise<EnclaveInstance[]> {
    const collected: EnclaveInstance[] = [];
    for (const pod of await this.#pods({})) {
      const instance = instanceOf(pod, undefined);
      if (instance.state === "stopping") continue;
      if (instance.state === "terminated" || !(await stillActive(instance))) collected.push(instance);
    }
    await Promise.all(collected.map((i) => this.stop(i.id, "orphaned")));
    return collected;
  }

  async #pods(filter: { readonly userId?: string; readonly licenceId?: string }): Promise<V1Pod[]> {
    try {
      const list = await this.#core.listNamespacedPod({
        namespace: this.#o.namespace,
        labelSelector: selectorOf(this.#o.launcherId, filter),
      });
      return list.items;
    } catch (e) {
      throw launcherError(e, { verb: "list", resource: "pods", namespace: this.#o.namespace });
    }
  }

  // Creates the pod; on 409 reuses the existing one when it is this enclave, waits out one that is
  // terminating, and refuses one that belongs to someone else.
  async #createOrReuse(
    request: LaunchRequest,
    name: string,
    signal: AbortSignal,
  ): Promise<{ uid: string | undefined; fresh: boolean }> {
    const ns = this.#o.namespace;
    for (let attempt = 0; ; attempt++) {
      try {
        const pod = await this.#core.createNamespacedPod({
          namespace: ns,
          body: enclavePod(this.#o, request),
        });
        return { uid: pod.metadata?.uid, fresh: true };
      } catch (e) {
        if (apiFailureOf(e)?.code !== 409)
          throw launcherError(e, { verb: "create", resource: "pods", namespace: ns });
      }
      let existing: V1Pod;
      try {
        existing = await this.#core.readNamespacedPod({ namespace: ns, name });
      } catch (e) {
        if (apiFailureOf(e)?.code === 404 && attempt < 3) continue; // deleted meanwhile: create again
        throw launcherError(e, { verb: "get", resource: "pods", namespace: ns });
      }
      if (!isSameEnclave(existing, this.#o.launcherId, request))
        throw new KeywardError(
          "ERR_LAUNCHER_CONFLICT",
          `pod ${name} exists in namespace ${ns} but is not this enclave (other labels or annotations); it is left alone`,
          { detail: { pod: name } },
        );
      if (existing.metadata?.deletionTimestamp === undefined && startFailure(existing) === undefined)
        return { uid: existing.metadata?.uid, fresh: false };
      if (attempt >= 3)
        throw new KeywardError(
          "ERR_LAUNCHER_CONFLICT",
          `enclave pod ${name} keeps being replaced while starting`,
          { detail: { pod: name } },
        );
      // A stopping or dead pod of this enclave: make sure it goes, wait until it has, create anew.
      const uid = existing.metadata?.uid;
      if (existing.metadata?.deletionTimestamp === undefined) await this.#delete(name, 0, uid);
      await watchPod(
        this.#ctx,
        name,
        (p) => (p === undefined || p.metadata?.uid !== uid ? { done: undefined } : undefined),
        signal,
        `enclave pod ${name} was still terminating`,
      );
    }
  }

  // Deletes a pod (only the given incarnation when `uid` is set); resolves with the uid of what it
  // deleted, or undefined when there was nothing to delete.
  async #delete(name: string, grace: number, uid?: string): Promise<string | undefined> {
    try {
      const pod = await this.#core.deleteNamespacedPod({
        namespace: this.#o.namespace,
        name,
        gracePeriodSeconds: grace,
        propagationPolicy: "Background",
        ...(uid === undefined ? {} : { body: { preconditions: { uid } } }),
      });
      return (pod as V1Pod).metadata?.uid;
    } catch (e) {
      const code = apiFailureOf(e)?.code;
      if (code === 404 || (code === 409 && uid !== undefined)) return undefined; // gone, or another incarnation
      throw launcherError(e, { verb: "delete", resource: "pods", namespace: this.#o.namespace });
    }
  }
}

/**
 * The owner reference of the licensing server's own Deployment, so that deleting the Deployment
 * (uninstalling) garbage-collects every enclave pod it launched. Needs `get` on that deployment.
 * @throws KeywardError ERR_LAUNCHER_FORBIDDEN, ERR_LAUNCHER_NOT_FOUND, ERR_LAUNCHER_UNAVAILABLE
 */
export async function deploymentOwner(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): Promise<V1OwnerReference> {
  try {
    const d = await kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name });
    return { apiVersion: "apps/v1", kind: "Deployment", name, uid: d.metadata?.uid ?? "" };
  } catch (e) {
    throw launcherError(e, { verb: "get", resource: "deployments", namespace, apiGroup: "apps" });
  }
}
