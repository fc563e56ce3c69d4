/**
 * The verbs of the API, independent of HTTP: create, get, list, update (PUT), patch (merge, JSON
 * and apply), on the main resource or its `status` subresource. Each write decodes the body,
 * keeps the fields only the server owns (uid, creationTimestamp, resourceVersion, generation,
 * status on the main resource), applies defaults and admission, validates, then stores.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { admit, admitNamespace } from "./admission.ts";
import { decode, type FieldValidation, throwIfInvalid } from "./decode.ts";
import { applyDefaults, initialStatus } from "./defaults.ts";
import { clone, jsonEqual, obj, str } from "./json.ts";
import { jsonPatch, mergePatch } from "./patch.ts";
import type { UserInfo } from "./rbac.ts";
import { apiVersionOf, RESOURCES, type ResourceType } from "./resources.ts";
import type { KubeObject } from "./selectors.ts";
import {
  alreadyExists,
  badRequest,
  conflict,
  notFound,
  type StatusCause,
  unsupportedMediaType,
} from "./status.ts";
import type { Store } from "./store.ts";
import { validateObject } from "./validate-kinds.ts";

/** Options of a write. */
export interface WriteOptions {
  readonly user: UserInfo;
  readonly dryRun: boolean;
  readonly fieldValidation: FieldValidation;
}

/** What a write returns: the stored object, warnings for the `Warning` header, and the HTTP code. */
export interface WriteResult {
  readonly object: KubeObject;
  readonly warnings: readonly string[];
  readonly code: 200 | 201;
}

const NAMESPACES = RESOURCES.find((t) => t.plural === "namespaces") as ResourceType;
const SERVICE_ACCOUNTS = RESOURCES.find((t) => t.plural === "serviceaccounts") as ResourceType;
const GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** RFC 3339 to the second, as metav1.Time serializes. */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The verbs over a store. `changed` is called after every stored change (controllers listen). */
export class Api {
  readonly store: Store;
  readonly #now: () => Date;
  readonly #changed: () => void;
  #nextIp = 10;

  constructor(store: Store, now: () => Date, changed: () => void) {
    this.store = store;
    this.#now = now;
    this.#changed = changed;
  }

  /** POST to a collection. */
  create(t: ResourceType, namespace: string | undefined, body: unknown, o: WriteOptions): WriteResult {
    const decoded = decode(t, body, o.fieldValidation);
    const object = decoded.object;
    const meta = object.metadata;
    if (t.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== namespace)
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      meta.namespace = namespace;
    } else delete meta.namespace;
    if ((meta.name ?? "") === "" && (meta.generateName ?? "") !== "")
      meta.name = this.#generate(meta.generateName as string);
    const name = meta.name ?? "";
    if (t.namespaced) admitNamespace(this.store, t, namespace as string, name);
    if (name !== "" && this.store.get(t, namespace, name) !== undefined) throw alreadyExists(t, name);
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.#now());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (object.spec !== undefined) meta.generation = 1;
    applyDefaults(t, object, () => this.#allocateIp());
    if (t.statusSubresource) object.status = initialStatus(t, object);
    if (object.status === undefined) delete object.status;
    throwIfInvalid(t, name, [...decoded.requiredCauses, ...validateObject(t, object)]);
    admit(this.store, t, object, o.user);
    if (o.dryRun) return { object, warnings: decoded.warnings, code: 201 };
    const stored = this.store.put(t, object);
    if (t === NAMESPACES && this.store.get(SERVICE_ACCOUNTS, name, "default") === undefined)
      // The service account controller gives every namespace its "default" service account.
      this.#system(SERVICE_ACCOUNTS, { metadata: { name: "default", namespace: name } });
    this.#changed();
    return { object: stored, warnings: decoded.warnings, code: 201 };
  }

  /** GET one object. */
  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const o = this.store.get(t, namespace, name);
    if (o === undefined) throw notFound(t, name);
    return o;
  }

  /** PUT: replaces the object (or its status). */
  update(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    o: WriteOptions,
    subresource?: "status",
  ): WriteResult {
    const decoded = decode(t, body, o.fieldValidation);
    return this.#replace(
      t,
      namespace,
      name,
      decoded.object,
      o,
      decoded.warnings,
      decoded.requiredCauses,
      subresource,
    );
  }

  /** PATCH with a merge patch, a JSON patch, or an apply configuration (create-or-merge). */
  patch(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    raw: string,
    o: WriteOptions & { readonly fieldManager?: string; readonly force?: boolean },
    subresource?: "status",
  ): WriteResult {
    const type = contentType.split(";")[0]?.trim() ?? "";
    if (type !== "application/apply-patch+yaml" && o.force === true)
      throw badRequest("force: Forbidden: may not be specified for non-apply patch");
    if (type === "application/apply-patch+yaml") {
      if ((o.fieldManager ?? "") === "")
        throw badRequest("fieldManager: Required value: is required for apply patch");
      let applied: unknown;
      try {
        applied = parseYaml(raw);
      } catch (e) {
        throw badRequest(`error decoding YAML: ${(e as Error).message}`);
      }
      const body = obj(applied) ?? {};
      const bodyName = str(obj(body.metadata)?.name);
      if (bodyName !== undefined && bodyName !== name)
        throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
      // Server-side apply always decodes strictly: an unknown field cannot be given an owner.
      const strict = { ...o, fieldValidation: "Strict" as const };
      const current = this.store.get(t, namespace, name);
      if (current === undefined) {
        if (subresource !== undefined) throw notFound(t, name);
        return this.create(
          t,
          namespace,
          { ...body, metadata: { ...(obj(body.metadata) ?? {}), name } },
          strict,
        );
      }
      return this.update(t, namespace, name, mergePatch(current, body), strict, subresource);
    }
    const current = this.get(t, namespace, name);
    let patchBody: unknown;
    try {
      patchBody = JSON.parse(raw);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    let patched: unknown;
    if (type === "application/merge-patch+json") patched = mergePatch(current, patchBody);
    else if (type === "application/json-patch+json") patched = jsonPatch(current, patchBody);
    else throw unsupportedMediaType(type);
    return this.update(t, namespace, name, patched, o, subresource);
  }

  /** Stores a change made by the control plane itself (controllers, kubelet): no admission. */
  system(t: ResourceType, object: KubeObject): KubeObject {
    const stored = this.store.put(t, object);
    this.#changed();
    return stored;
  }

  /** Removes an object for good (a DELETED event); controllers are told. */
  remove(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const removed = this.store.remove(t, namespace, name);
    if (removed === undefined) throw notFound(t, name);
    this.#changed();
    return removed;
  }

  #system(t: ResourceType, object: KubeObject): void {
    object.metadata.uid = randomUUID();
    object.metadata.creationTimestamp = timestamp(this.#now());
    this.store.put(t, { apiVersion: apiVersionOf(t), kind: t.kind, ...object });
  }

  #replace(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    incoming: KubeObject,
    o: WriteOptions,
    warnings: readonly string[],
    requiredCauses: readonly StatusCause[],
    subresource: "status" | undefined,
  ): WriteResult {
    const current = this.get(t, namespace, name);
    const inName = incoming.metadata.name;
    if (inName !== undefined && inName !== name)
      throw badRequest(`the name of the object (${inName}) does not match the name on the URL (${name})`);
    const rv = incoming.metadata.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== current.metadata.resourceVersion)
      throw conflict(
        t,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    let next: KubeObject;
    if (subresource === "status") next = { ...current, status: incoming.status };
    else {
      next = incoming;
      const m = next.metadata;
      const cm = current.metadata;
      m.name = name;
      if (t.namespaced) m.namespace = namespace;
      else delete m.namespace;
      m.uid = cm.uid;
      m.creationTimestamp = cm.creationTimestamp;
      for (const k of ["deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const) {
        if (cm[k] === undefined) delete m[k];
        else m[k] = cm[k] as never;
      }
      if (t.statusSubresource) next.status = current.status;
      applyDefaults(t, next, () => this.#allocateIp());
      if (next.spec !== undefined && !jsonEqual(next.spec, current.spec))
        m.generation = (cm.generation ?? 0) + 1;
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    throwIfInvalid(t, name, [
      ...(subresource === undefined ? requiredCauses : []),
      ...validateObject(t, next, current),
    ]);
    if (subresource === undefined) admit(this.store, t, next, o.user);
    const code = 200 as const;
    if (jsonEqual(next, current)) return { object: current, warnings, code };
    if (o.dryRun) return { object: next, warnings, code };
    if (
      current.metadata.deletionTimestamp !== undefined &&
      (next.metadata.finalizers ?? []).length === 0 &&
      t.plural !== "pods"
    ) {
      return { object: this.remove(t, namespace, name), warnings, code };
    }
    const stored = this.store.put(t, next);
    this.#changed();
    return { object: stored, warnings, code };
  }

  #generate(prefix: string): string {
    let s = "";
    for (let i = 0; i < 5; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
    return prefix + s;
  }

  #allocateIp(): string {
    const n = this.#nextIp++;
    return `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
  }
}

/** A `*List` answer: items without their own kind and apiVersion, as typed lists serialize. */
export function listOf(t: ResourceType, items: readonly KubeObject[], resourceVersion: string): unknown {
  return {
    kind: `${t.kind}List`,
    apiVersion: apiVersionOf(t),
    metadata: { resourceVersion },
    items: items.map((i) => {
      const { kind: _k, apiVersion: _a, ...rest } = clone(i);
      return rest;
    }),
  };
}
