/**
 * The two controllers whose effects the API contract includes: the garbage collector (dependents
 * whose owners are gone are deleted; `foregroundDeletion` and `orphan` finalizers are carried out;
 * dangling owner references beside a live owner are dropped — "Garbage Collection" in the
 * Kubernetes documentation) and the namespace controller (a terminating namespace's content is
 * deleted, then the namespace).
 *
 * They run after each change, one pass per event-loop turn, so that watchers see the intermediate
 * states a cluster shows. `settle()` resolves once a pass finds nothing left to do; tests await it
 * instead of sleeping.
 *
 * @module
 */
import type { Api } from "./api.ts";
import { deleteObject } from "./delete.ts";
import { type Obj, obj } from "./json.ts";
import type { ResourceType } from "./resources.ts";
import type { KubeObject, OwnerReference } from "./selectors.ts";

/** Schedules and runs controller passes. */
export class Controllers {
  readonly #api: () => Api;
  readonly #now: () => Date;
  #scheduled: Promise<void> | undefined;
  #stopped = false;

  constructor(api: () => Api, now: () => Date) {
    this.#api = api;
    this.#now = now;
  }

  /** Asks for a pass on a later turn of the event loop (coalesced). */
  schedule(): void {
    if (this.#scheduled !== undefined || this.#stopped) return;
    this.#scheduled = new Promise<void>((resolve) => {
      setImmediate(() => {
        this.#scheduled = undefined;
        if (!this.#stopped && this.#pass()) this.schedule();
        resolve();
      });
    });
  }

  /** Resolves when no pass is pending (every cascade has run to its end). */
  async settle(): Promise<void> {
    while (this.#scheduled !== undefined) await this.#scheduled;
  }

  /** Stops scheduling passes (server shutdown). */
  stop(): void {
    this.#stopped = true;
  }

  // One pass; true when it changed something (then another pass follows).
  #pass(): boolean {
    const api = this.#api();
    const all = api.store.all();
    const byUid = new Map<string, { t: ResourceType; object: KubeObject }>();
    for (const e of all) if (e.object.metadata.uid !== undefined) byUid.set(e.object.metadata.uid, e);
    const dependentsOf = (uid: string) =>
      all.filter((e) => (e.object.metadata.ownerReferences ?? []).some((r) => r.uid === uid));
    let changed = false;

    for (const { t, object } of all) {
      const meta = object.metadata;
      if (meta.deletionTimestamp === undefined) continue;
      const name = meta.name as string;
      if (t.plural === "namespaces") {
        // The namespace controller deletes the content (finalizers and pod termination are honoured)
        // and removes the namespace once nothing is left in it.
        const content = all.filter((e) => e.t.namespaced && e.object.metadata.namespace === name);
        for (const e of content)
          if (e.object.metadata.deletionTimestamp === undefined) {
            deleteObject(api, e.t, name, e.object.metadata.name as string, {}, this.#now());
            changed = true;
          }
        if (content.length === 0) {
          api.remove(t, undefined, name);
          changed = true;
        }
        continue;
      }
      const finalizers = meta.finalizers ?? [];
      if (finalizers.includes("orphan")) {
        for (const d of dependentsOf(meta.uid as string)) {
          const refs = (d.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== meta.uid);
          if (refs.length > 0) d.object.metadata.ownerReferences = refs;
          else delete d.object.metadata.ownerReferences;
          api.system(d.t, d.object);
        }
        this.#dropFinalizer(api, t, object, "orphan");
        changed = true;
      } else if (finalizers.includes("foregroundDeletion")) {
        const deps = dependentsOf(meta.uid as string);
        for (const d of deps)
          if (d.object.metadata.deletionTimestamp === undefined) {
            deleteObject(
              api,
              d.t,
              d.object.metadata.namespace,
              d.object.metadata.name as string,
              { propagationPolicy: "Foreground" },
              this.#now(),
            );
            changed = true;
          }
        if (deps.length === 0) {
          this.#dropFinalizer(api, t, object, "foregroundDeletion");
          changed = true;
        }
      }
    }

    for (const { t, object } of all) {
      const refs = object.metadata.ownerReferences ?? [];
      if (refs.length === 0 || object.metadata.deletionTimestamp !== undefined) continue;
      const live = refs.filter((r) => ownerExists(byUid, r, object));
      if (live.length === refs.length) continue;
      const ns = object.metadata.namespace;
      const name = object.metadata.name as string;
      if (api.store.get(t, ns, name) === undefined) continue;
      if (live.length === 0) deleteObject(api, t, ns, name, { propagationPolicy: "Background" }, this.#now());
      else {
        object.metadata.ownerReferences = live;
        api.system(t, object);
      }
      changed = true;
    }
    return changed;
  }

  #dropFinalizer(api: Api, t: ResourceType, object: KubeObject, finalizer: string): void {
    const rest = (object.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    if (rest.length === 0 && !(t.plural === "pods" && podAwaitsKubelet(object)))
      api.remove(t, object.metadata.namespace, object.metadata.name as string);
    else {
      if (rest.length > 0) object.metadata.finalizers = rest;
      else delete object.metadata.finalizers;
      api.system(t, object);
    }
  }
}

// An owner counts when an object with that uid exists in the dependent's namespace (or is
// cluster-scoped); a namespaced owner in another namespace is treated as absent.
function ownerExists(
  byUid: ReadonlyMap<string, { t: ResourceType; object: KubeObject }>,
  ref: OwnerReference,
  dependent: KubeObject,
): boolean {
  const owner = byUid.get(ref.uid);
  if (owner === undefined) return false;
  if (owner.object.metadata.name !== ref.name || owner.t.kind !== ref.kind) return false;
  return !owner.t.namespaced || owner.object.metadata.namespace === dependent.metadata.namespace;
}

/** True when a pod marked for deletion still waits for its kubelet to confirm termination. */
export function podAwaitsKubelet(pod: KubeObject): boolean {
  const spec = obj(pod.spec) as Obj | undefined;
  const phase = obj(pod.status)?.phase;
  return (
    pod.metadata.deletionTimestamp !== undefined &&
    (pod.metadata.deletionGracePeriodSeconds ?? 0) > 0 &&
    spec?.nodeName !== undefined &&
    phase !== "Succeeded" &&
    phase !== "Failed"
  );
}
