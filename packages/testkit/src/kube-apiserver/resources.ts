/**
 * The resource types the contract server serves, as the API reference names them: group, version,
 * plural resource name (the URL segment), kind, scope, the OpenAPI definition each object is
 * validated against, and the discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`)
 * that clients such as `KubernetesObjectApi` read to map a kind to its URL.
 *
 * @module
 */

/** One served resource type. */
export interface ResourceType {
  /** API group; "" is the core (legacy) group served under `/api`. */
  readonly group: string;
  readonly version: string;
  /** Plural lower-case name used in URLs and RBAC rules (`pods`). */
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** The OpenAPI v2 definition name objects of this kind are validated against. */
  readonly definition: string;
  /** True when `status` is written only through the `/status` subresource. */
  readonly statusSubresource: boolean;
  readonly shortNames: readonly string[];
}

const r = (
  group: string,
  plural: string,
  kind: string,
  definition: string,
  options: { namespaced?: boolean; status?: boolean; short?: readonly string[] } = {},
): ResourceType => ({
  group,
  version: "v1",
  plural,
  singular: kind.toLowerCase(),
  kind,
  namespaced: options.namespaced ?? true,
  definition,
  statusSubresource: options.status ?? false,
  shortNames: options.short ?? [],
});

/** Every resource type served. */
export const RESOURCES: readonly ResourceType[] = [
  r("", "namespaces", "Namespace", "io.k8s.api.core.v1.Namespace", {
    namespaced: false,
    status: true,
    short: ["ns"],
  }),
  r("", "pods", "Pod", "io.k8s.api.core.v1.Pod", { status: true, short: ["po"] }),
  r("", "services", "Service", "io.k8s.api.core.v1.Service", { status: true, short: ["svc"] }),
  r("", "serviceaccounts", "ServiceAccount", "io.k8s.api.core.v1.ServiceAccount", { short: ["sa"] }),
  r("", "secrets", "Secret", "io.k8s.api.core.v1.Secret"),
  r("", "configmaps", "ConfigMap", "io.k8s.api.core.v1.ConfigMap", { short: ["cm"] }),
  r("apps", "deployments", "Deployment", "io.k8s.api.apps.v1.Deployment", {
    status: true,
    short: ["deploy"],
  }),
  r("rbac.authorization.k8s.io", "roles", "Role", "io.k8s.api.rbac.v1.Role"),
  r("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", "io.k8s.api.rbac.v1.RoleBinding"),
  r("policy", "poddisruptionbudgets", "PodDisruptionBudget", "io.k8s.api.policy.v1.PodDisruptionBudget", {
    status: true,
    short: ["pdb"],
  }),
  r("networking.k8s.io", "networkpolicies", "NetworkPolicy", "io.k8s.api.networking.v1.NetworkPolicy", {
    short: ["netpol"],
  }),
];

/** `apiVersion` as objects carry it: `v1` for the core group, `GROUP/VERSION` otherwise. */
export function apiVersionOf(t: ResourceType): string {
  return t.group === "" ? t.version : `${t.group}/${t.version}`;
}

/** The resource type for a group, version and plural name, or undefined. */
export function resourceByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** The resource type for an `apiVersion` and `kind`, or undefined. */
export function resourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}

/** `pods` or `deployments.apps`: how Status messages name a resource. */
export function qualifiedResource(t: ResourceType): string {
  return t.group === "" ? t.plural : `${t.plural}.${t.group}`;
}

/** `Pod` or `Deployment.apps`: how Invalid messages name a kind. */
export function qualifiedKind(t: ResourceType): string {
  return t.group === "" ? t.kind : `${t.kind}.${t.group}`;
}

const VERBS_NAMESPACED = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const VERBS_CLUSTER = ["create", "delete", "get", "list", "patch", "update", "watch"];

/** `GET /api`: the core group's versions. */
export function apiVersionsDocument(): unknown {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] };
}

/** `GET /apis`: every named group and its versions. */
export function apiGroupListDocument(): unknown {
  const groups = [...new Set(RESOURCES.map((t) => t.group).filter((g) => g !== ""))];
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups.map((name) => ({
      name,
      versions: [{ groupVersion: `${name}/v1`, version: "v1" }],
      preferredVersion: { groupVersion: `${name}/v1`, version: "v1" },
    })),
  };
}

/** `GET /api/v1` or `GET /apis/GROUP/VERSION`: the resources of one group version, or undefined. */
export function apiResourceListDocument(group: string, version: string): unknown {
  const types = RESOURCES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const t of types) {
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.namespaced ? VERBS_NAMESPACED : VERBS_CLUSTER,
      ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
    });
    if (t.statusSubresource)
      resources.push({
        name: `${t.plural}/status`,
        singularName: "",
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ["get", "patch", "update"],
      });
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}
