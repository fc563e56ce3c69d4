/**
 * The admission plugins whose effects the contract includes: NamespaceLifecycle, ServiceAccount
 * (existence only; no token volume is injected) and RBAC's escalation check.
 *
 * @module
 */
import { type Obj, obj, str } from "./json.ts";
import { escalation, referencedRules, type UserInfo } from "./rbac.ts";
import { RESOURCES, type ResourceType } from "./resources.ts";
import type { KubeObject } from "./selectors.ts";
import { forbidden, notFound, StatusError } from "./status.ts";
import type { Store } from "./store.ts";

const NAMESPACES = RESOURCES.find((t) => t.plural === "namespaces") as ResourceType;
const SERVICE_ACCOUNTS = RESOURCES.find((t) => t.plural === "serviceaccounts") as ResourceType;

/**
 * A namespaced object needs its namespace (404), and none may be added to a terminating one (403
 * with cause NamespaceTerminating: the NamespaceLifecycle admission plugin).
 */
export function admitNamespace(store: Store, t: ResourceType, namespace: string, name: string): void {
  const ns = store.get(NAMESPACES, undefined, namespace);
  if (ns === undefined) throw notFound(NAMESPACES, namespace);
  if (ns.metadata.deletionTimestamp !== undefined) {
    const e = forbidden(
      t,
      name,
      `unable to create new content in namespace ${namespace} because it is being terminated`,
    );
    throw new StatusError(403, "Forbidden", e.message, {
      ...e.status.details,
      causes: [
        {
          reason: "NamespaceTerminating",
          message: `namespace ${namespace} is being terminated`,
          field: "metadata.namespace",
        },
      ],
    });
  }
}

/**
 * Admission the served kinds meet in a cluster: the ServiceAccount plugin (a pod's service account
 * must exist) and RBAC's escalation check (a Role or RoleBinding grants only what its writer holds).
 * @throws StatusError 403
 */
export function admit(store: Store, t: ResourceType, object: KubeObject, user: UserInfo): void {
  const ns = object.metadata.namespace as string;
  const name = object.metadata.name ?? "";
  if (t.plural === "pods") {
    const sa = str(obj(object.spec)?.serviceAccountName) ?? "default";
    if (store.get(SERVICE_ACCOUNTS, ns, sa) === undefined)
      throw forbidden(
        t,
        name,
        `error looking up service account ${ns}/${sa}: serviceaccount "${sa}" not found`,
      );
  }
  const rules =
    t.plural === "roles"
      ? (((object as Obj).rules as unknown[] | undefined) ?? [])
      : t.plural === "rolebindings"
        ? referencedRules(store, ns, object)
        : undefined;
  if (rules !== undefined) {
    const lacking = escalation(store, user, ns, rules);
    if (lacking !== undefined)
      throw forbidden(
        t,
        name,
        `user "${user.name}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held: ${lacking}`,
      );
  }
}
