/**
 * Authorization as RBAC defines it ("Using RBAC Authorization"), for the namespaced part the
 * contract server models: a request is allowed when a RoleBinding in the request's namespace binds
 * the caller (a User, a Group it belongs to, or its ServiceAccount
 * `system:serviceaccount:NS:NAME`) to a Role of that namespace with a rule matching the API group,
 * resource (or `resource/subresource`), verb and, where the rule lists them, resource names.
 * Members of `system:masters` are allowed everything. ClusterRoles and ClusterRoleBindings are not
 * served, so a binding to a ClusterRole grants nothing here.
 *
 * Denials carry the API server's message, naming the verb, resource, group and namespace — the
 * facts a caller needs to say which permission is missing.
 *
 * @module
 */
import { arr, obj, str } from "./json.ts";
import { RESOURCES, type ResourceType } from "./resources.ts";
import type { Store } from "./store.ts";

/** An authenticated caller. */
export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

/** What a request does, in RBAC's terms. */
export interface RequestAttributes {
  readonly verb: string;
  readonly t: ResourceType;
  readonly namespace: string | undefined;
  readonly name?: string;
  readonly subresource?: string;
}

const ROLES = RESOURCES.find((t) => t.plural === "roles") as ResourceType;
const BINDINGS = RESOURCES.find((t) => t.plural === "rolebindings") as ResourceType;

/** The denial text when `user` may not do `a`, or undefined when allowed. */
export function authorize(store: Store, user: UserInfo, a: RequestAttributes): string | undefined {
  if (user.groups.includes("system:masters")) return undefined;
  if (a.namespace !== undefined && rulesFor(store, user, a.namespace).some((r) => ruleAllows(r, a)))
    return undefined;
  const resource = a.subresource === undefined ? a.t.plural : `${a.t.plural}/${a.subresource}`;
  const scope = a.namespace === undefined ? "at the cluster scope" : `in the namespace "${a.namespace}"`;
  return `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.t.group}" ${scope}`;
}

interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames: readonly string[];
}

function rulesFor(store: Store, user: UserInfo, namespace: string): Rule[] {
  const rules: Rule[] = [];
  for (const binding of store.list(BINDINGS, namespace)) {
    const ref = obj(binding.roleRef) ?? {};
    if (ref.kind !== "Role") continue;
    const bound = arr(binding.subjects).some((x) => {
      const s = obj(x) ?? {};
      if (s.kind === "User") return s.name === user.name;
      if (s.kind === "Group") return user.groups.includes(str(s.name) ?? "");
      if (s.kind === "ServiceAccount")
        return user.name === `system:serviceaccount:${str(s.namespace) ?? namespace}:${str(s.name) ?? ""}`;
      return false;
    });
    if (!bound) continue;
    const role = store.get(ROLES, namespace, str(ref.name) ?? "");
    for (const x of arr(role?.rules)) {
      const r = obj(x) ?? {};
      rules.push({
        apiGroups: arr(r.apiGroups) as string[],
        resources: arr(r.resources) as string[],
        verbs: arr(r.verbs) as string[],
        resourceNames: arr(r.resourceNames) as string[],
      });
    }
  }
  return rules;
}

function ruleAllows(r: Rule, a: RequestAttributes): boolean {
  const resource = a.subresource === undefined ? a.t.plural : `${a.t.plural}/${a.subresource}`;
  const resourceOk =
    r.resources.includes("*") ||
    r.resources.includes(resource) ||
    (a.subresource !== undefined && r.resources.includes(`*/${a.subresource}`));
  return (
    (r.apiGroups.includes("*") || r.apiGroups.includes(a.t.group)) &&
    resourceOk &&
    (r.verbs.includes("*") || r.verbs.includes(a.verb)) &&
    (r.resourceNames.length === 0 || (a.name !== undefined && r.resourceNames.includes(a.name)))
  );
}

/**
 * RBAC's escalation check: a caller may write a Role (or bind one) only with permissions it holds
 * itself. Returns the first permission it lacks, or undefined.
 */
export function escalation(
  store: Store,
  user: UserInfo,
  namespace: string,
  rules: readonly unknown[],
): string | undefined {
  for (const x of rules) {
    const r = obj(x) ?? {};
    for (const group of arr(r.apiGroups) as string[])
      for (const resource of arr(r.resources) as string[])
        for (const verb of arr(r.verbs) as string[]) {
          const [plural = "", sub] = resource.split("/");
          const t = RESOURCES.find((c) => c.group === group && c.plural === plural);
          if (t === undefined) {
            if (!user.groups.includes("system:masters")) return `${verb} ${resource} in API group "${group}"`;
            continue;
          }
          const denied = authorize(store, user, {
            verb,
            t,
            namespace,
            ...(sub === undefined ? {} : { subresource: sub }),
          });
          if (denied !== undefined) return `${verb} ${resource} in API group "${group}"`;
        }
  }
  return undefined;
}

/** The rules of the Role a RoleBinding references (empty when absent or a ClusterRole). */
export function referencedRules(
  store: Store,
  namespace: string,
  binding: Record<string, unknown>,
): unknown[] {
  const ref = obj(binding.roleRef) ?? {};
  if (ref.kind !== "Role") return [];
  return arr(store.get(ROLES, namespace, str(ref.name) ?? "")?.rules);
}
