/**
 * DELETE as the API reference defines it ("Garbage Collection", "Pod Lifecycle: Termination of
 * Pods", DeleteOptions): preconditions on uid and resourceVersion (409 when stale), the
 * propagation policy (Background: the object goes now and the garbage collector removes its
 * dependents; Foreground: the object waits, with the `foregroundDeletion` finalizer, until its
 * dependents are gone; Orphan: dependents lose their owner reference), finalizers (an object with
 * finalizers only gets a deletionTimestamp), graceful pod termination (a scheduled pod stays, marked
 * for deletion, until its kubelet confirms), and namespace termination.
 *
 * @module
 */
import type { Api } from "./api.ts";
import { timestamp } from "./api.ts";
import { arr, num, type Obj, obj, str } from "./json.ts";
import type { ResourceType } from "./resources.ts";
import type { KubeObject } from "./selectors.ts";
import { conflict, invalid, unsupported } from "./status.ts";

/** metav1.DeleteOptions, from the query string and/or the body. */
export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: string;
  readonly orphanDependents?: boolean;
  readonly preconditions?: {
    readonly uid?: string | undefined;
    readonly resourceVersion?: string | undefined;
  };
  readonly dryRun?: boolean;
}

/** Reads DeleteOptions from query parameters and an optional JSON body (the body wins). */
export function deleteOptionsOf(query: URLSearchParams, body: unknown): DeleteOptions {
  const b = obj(body) ?? {};
  const grace =
    num(b.gracePeriodSeconds) ??
    (query.has("gracePeriodSeconds") ? Number(query.get("gracePeriodSeconds")) : undefined);
  const policy = str(b.propagationPolicy) ?? query.get("propagationPolicy") ?? undefined;
  const orphan =
    typeof b.orphanDependents === "boolean"
      ? b.orphanDependents
      : query.has("orphanDependents")
        ? query.get("orphanDependents") === "true"
        : undefined;
  const pre = obj(b.preconditions);
  const dryRun = arr(b.dryRun).includes("All") || query.get("dryRun") === "All";
  return {
    ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
    ...(policy === undefined ? {} : { propagationPolicy: policy }),
    ...(orphan === undefined ? {} : { orphanDependents: orphan }),
    ...(pre === undefined
      ? {}
      : {
          preconditions: {
            ...(str(pre.uid) === undefined ? {} : { uid: str(pre.uid) }),
            ...(str(pre.resourceVersion) === undefined ? {} : { resourceVersion: str(pre.resourceVersion) }),
          },
        }),
    dryRun,
  };
}

const POLICIES = ["Orphan", "Background", "Foreground"];

/** The result of a delete: the object's last (or current, when deletion is pending) state. */
export interface DeleteResult {
  readonly object: KubeObject;
  readonly code: 200 | 202;
}

/**
 * Deletes one object.
 * @throws StatusError 404 when absent, 409 when a precondition fails, 422 for bad options
 */
export function deleteObject(
  api: Api,
  t: ResourceType,
  namespace: string | undefined,
  name: string,
  options: DeleteOptions,
  now: Date,
): DeleteResult {
  const current = api.get(t, namespace, name);
  const meta = current.metadata;
  if (options.propagationPolicy !== undefined && !POLICIES.includes(options.propagationPolicy))
    throw invalid(t, name, [unsupported("propagationPolicy", options.propagationPolicy, POLICIES)]);
  if (options.propagationPolicy !== undefined && options.orphanDependents !== undefined)
    throw invalid(t, name, [
      {
        reason: "FieldValueInvalid",
        field: "propagationPolicy",
        message: "Invalid value: orphanDependents and deletionPropagation cannot be both set",
      },
    ]);
  if (
    options.gracePeriodSeconds !== undefined &&
    (!Number.isInteger(options.gracePeriodSeconds) || options.gracePeriodSeconds < 0)
  )
    throw invalid(t, name, [
      {
        reason: "FieldValueInvalid",
        field: "gracePeriodSeconds",
        message: "Invalid value: must be greater than or equal to 0",
      },
    ]);
  const pre = options.preconditions;
  if (pre?.uid !== undefined && pre.uid !== meta.uid)
    throw conflict(
      t,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
    );
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion)
    throw conflict(
      t,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`,
    );
  if (options.dryRun === true) return { object: current, code: 200 };

  if (t.plural === "namespaces") {
    if (meta.deletionTimestamp === undefined) {
      meta.deletionTimestamp = timestamp(now);
      meta.deletionGracePeriodSeconds = 0;
      current.status = { ...(obj(current.status) ?? {}), phase: "Terminating" };
      return { object: api.system(t, current), code: 200 };
    }
    return { object: current, code: 200 };
  }

  if (t.plural === "pods") {
    const spec = obj(current.spec) ?? {};
    const phase = str(obj(current.status)?.phase);
    const grace = options.gracePeriodSeconds ?? num(spec.terminationGracePeriodSeconds) ?? 30;
    const immediate =
      grace === 0 || str(spec.nodeName) === undefined || phase === "Succeeded" || phase === "Failed";
    if (!immediate) {
      const pending = meta.deletionGracePeriodSeconds;
      if (meta.deletionTimestamp !== undefined && pending !== undefined && pending <= grace)
        return { object: current, code: 200 };
      meta.deletionTimestamp = timestamp(new Date(now.getTime() + grace * 1000));
      meta.deletionGracePeriodSeconds = grace;
      withPolicyFinalizer(meta, options);
      return { object: api.system(t, current), code: 200 };
    }
  }

  withPolicyFinalizer(meta, options);
  if ((meta.finalizers ?? []).length > 0) {
    meta.deletionTimestamp ??= timestamp(now);
    meta.deletionGracePeriodSeconds = 0;
    const stored = api.system(t, current);
    return { object: stored, code: options.orphanDependents === false ? 202 : 200 };
  }
  return { object: api.remove(t, namespace, name), code: 200 };
}

// Foreground and Orphan are carried out by the garbage collector through these finalizers.
function withPolicyFinalizer(meta: Obj & KubeObject["metadata"], options: DeleteOptions): void {
  const policy =
    options.propagationPolicy ??
    (options.orphanDependents === true
      ? "Orphan"
      : options.orphanDependents === false
        ? "Foreground"
        : undefined);
  if (policy === undefined) return;
  const rest = (meta.finalizers ?? []).filter((f) => f !== "orphan" && f !== "foregroundDeletion");
  if (policy === "Foreground") rest.push("foregroundDeletion");
  if (policy === "Orphan") rest.push("orphan");
  if (rest.length > 0) meta.finalizers = rest;
  else delete meta.finalizers;
}
