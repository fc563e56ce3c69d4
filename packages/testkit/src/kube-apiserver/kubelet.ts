/**
 * A stand-in for the scheduler and the kubelets, which a real cluster has and the API server does
 * not: it binds pods to a node and writes their status (Pending → Running with the Ready condition,
 * an image pull back-off, a failure, an unschedulable pod) and confirms the termination of pods
 * marked for deletion. Tests drive it step by step (`manual`), or let it start every new pod and
 * finish every termination on the next event-loop turn (`auto`).
 *
 * @module
 */
import type { Api } from "./api.ts";
import { timestamp } from "./api.ts";
import { podAwaitsKubelet } from "./controllers.ts";
import { arr, type Obj, obj, str } from "./json.ts";
import { RESOURCES, type ResourceType } from "./resources.ts";
import type { KubeObject } from "./selectors.ts";
import { notFound } from "./status.ts";

const PODS = RESOURCES.find((t) => t.plural === "pods") as ResourceType;

/** How pods progress: only when a test says so, or by themselves. */
export type KubeletMode = "manual" | "auto";

/** Drives pod status the way a scheduler and kubelet would. */
export class Kubelet {
  readonly #api: Api;
  readonly #now: () => Date;
  #pending = 0;
  #idle: (() => void)[] = [];
  #nextIp = 2;
  #stop: (() => void) | undefined;

  constructor(api: Api, now: () => Date, mode: KubeletMode) {
    this.#api = api;
    this.#now = now;
    if (mode === "auto") {
      const handle = api.store.watch(
        {
          t: PODS,
          namespace: undefined,
          matches: () => true,
          bookmarks: false,
          send: (e) => {
            const pod = e.object as KubeObject;
            const ns = pod.metadata.namespace as string;
            const name = pod.metadata.name as string;
            if (e.type === "ADDED" && pod.metadata.deletionTimestamp === undefined)
              this.#later(() => this.run(ns, name));
            else if (e.type === "MODIFIED" && podAwaitsKubelet(pod))
              this.#later(() => this.finishTermination(ns, name));
          },
        },
        undefined,
      );
      this.#stop = () => handle.stop();
    }
  }

  /** Resolves when no automatic step is pending. */
  async settle(): Promise<void> {
    if (this.#pending === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** Stops reacting to pods. */
  stop(): void {
    this.#stop?.();
  }

  /** Binds the pod to a node (the scheduler's Binding), condition PodScheduled. */
  schedule(namespace: string, name: string, node = "node-1"): KubeObject {
    return this.#write(namespace, name, (_pod, spec, status) => {
      spec.nodeName ??= node;
      status.conditions = withCondition(status.conditions, "PodScheduled", "True", this.#now());
    });
  }

  /** Schedules (if needed) and starts every container; Ready unless `ready: false`. */
  run(namespace: string, name: string, options: { ready?: boolean } = {}): KubeObject {
    const ready = options.ready ?? true;
    this.schedule(namespace, name);
    return this.#write(namespace, name, (pod, spec, status) => {
      const now = this.#now();
      status.phase = "Running";
      status.hostIP = "10.0.0.1";
      status.hostIPs = [{ ip: "10.0.0.1" }];
      status.podIP ??= `10.244.0.${this.#nextIp++}`;
      status.podIPs = [{ ip: status.podIP }];
      status.startTime ??= timestamp(now);
      let conditions = status.conditions;
      conditions = withCondition(conditions, "PodReadyToStartContainers", "True", now);
      conditions = withCondition(conditions, "Initialized", "True", now);
      conditions = withCondition(conditions, "ContainersReady", ready ? "True" : "False", now);
      conditions = withCondition(conditions, "Ready", ready ? "True" : "False", now);
      status.conditions = conditions;
      status.containerStatuses = arr(spec.containers).map((c) => {
        const container = obj(c) ?? {};
        return {
          name: container.name,
          image: container.image,
          imageID: `${str(container.image) ?? ""}@sha256:${"0".repeat(64)}`,
          containerID: `containerd://${pod.metadata.uid ?? ""}-${String(container.name)}`,
          ready,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: timestamp(now) } },
        };
      });
    });
  }

  /** Sets the Ready condition of a running pod. */
  setReady(namespace: string, name: string, ready: boolean): KubeObject {
    return this.run(namespace, name, { ready });
  }

  /** Containers waiting (e.g. `ImagePullBackOff`, `ErrImagePull`, `CreateContainerConfigError`). */
  waiting(namespace: string, name: string, reason: string, message = ""): KubeObject {
    this.schedule(namespace, name);
    return this.#write(namespace, name, (_pod, spec, status) => {
      status.containerStatuses = arr(spec.containers).map((c) => ({
        name: obj(c)?.name,
        image: obj(c)?.image,
        imageID: "",
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason, message } },
      }));
    });
  }

  /** The pod cannot be scheduled (condition PodScheduled False, reason Unschedulable). */
  unschedulable(namespace: string, name: string, message: string): KubeObject {
    return this.#write(namespace, name, (_pod, _spec, status) => {
      status.conditions = withCondition(
        status.conditions,
        "PodScheduled",
        "False",
        this.#now(),
        "Unschedulable",
        message,
      );
    });
  }

  /** The pod failed (phase Failed with a reason). */
  fail(namespace: string, name: string, reason: string, message = ""): KubeObject {
    return this.#write(namespace, name, (_pod, _spec, status) => {
      status.phase = "Failed";
      status.reason = reason;
      status.message = message;
      status.conditions = withCondition(status.conditions, "Ready", "False", this.#now());
    });
  }

  /** Confirms a pod marked for deletion has terminated: it is removed (or waits for finalizers). */
  finishTermination(namespace: string, name: string): void {
    const pod = this.#api.store.get(PODS, namespace, name);
    if (pod === undefined || pod.metadata.deletionTimestamp === undefined) return;
    pod.metadata.deletionGracePeriodSeconds = 0;
    if ((pod.metadata.finalizers ?? []).length === 0) this.#api.remove(PODS, namespace, name);
    else this.#api.system(PODS, pod);
  }

  #write(
    namespace: string,
    name: string,
    edit: (pod: KubeObject, spec: Obj, status: Obj) => void,
  ): KubeObject {
    const pod = this.#api.store.get(PODS, namespace, name);
    if (pod === undefined) throw notFound(PODS, name);
    const spec = (obj(pod.spec) ?? {}) as Obj;
    const status = (obj(pod.status) ?? {}) as Obj;
    edit(pod, spec, status);
    pod.spec = spec;
    pod.status = status;
    return this.#api.system(PODS, pod);
  }

  #later(step: () => void): void {
    this.#pending++;
    setImmediate(() => {
      try {
        step();
      } catch {
        // The pod went away before its turn: nothing to start or finish.
      } finally {
        if (--this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
      }
    });
  }
}

function withCondition(
  conditions: unknown,
  type: string,
  status: "True" | "False",
  now: Date,
  reason?: string,
  message?: string,
): unknown[] {
  const list = arr(conditions).filter((c) => obj(c)?.type !== type);
  list.push({
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: timestamp(now),
    ...(reason === undefined ? {} : { reason }),
    ...(message === undefined ? {} : { message }),
  });
  return list;
}
