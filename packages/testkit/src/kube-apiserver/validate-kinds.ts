/**
 * Per-kind validation beyond the OpenAPI schema, on create and update (immutable fields), after
 * the checks of the API reference and the API server's validation of each kind: a Deployment's
 * selector must select its own template, a Service's ports are named when there are several, a
 * PodDisruptionBudget sets one of minAvailable/maxUnavailable, RBAC role references cannot change,
 * and so on. Each check is one the manifests or the launcher could get wrong.
 *
 * @module
 */
import { arr, jsonEqual, num, type Obj, obj, str } from "./json.ts";
import { isConfigMapKey, isDns1123Label } from "./names.ts";
import type { ResourceType } from "./resources.ts";
import { matchesLabelSelector } from "./selectors.ts";
import {
  duplicate,
  forbiddenField,
  invalidValue,
  required,
  type StatusCause,
  unsupported,
} from "./status.ts";
import { isEmptySelector, validateLabelSelector, validateLabels, validateMeta } from "./validate-meta.ts";
import { validateIntOrName, validatePodSpec } from "./validate-pod.ts";
import { validateNetworkPolicy, validateRole, validateRoleBinding } from "./validate-policy.ts";

const DATA_MAX_BYTES = 1024 * 1024;

/** Every problem of `object` (and of the change from `old`, on update). */
export function validateObject(t: ResourceType, object: Obj, old?: Obj): StatusCause[] {
  const causes = validateMeta(t, obj(object.metadata) ?? {});
  const spec = obj(object.spec) ?? {};
  const oldSpec = obj(old?.spec);
  switch (t.plural) {
    case "pods":
      causes.push(
        ...validatePodSpec(spec, { path: "spec", restartPolicies: ["Always", "OnFailure", "Never"] }),
      );
      if (oldSpec !== undefined && !jsonEqual(withoutImages(spec), withoutImages(oldSpec)))
        causes.push(
          forbiddenField(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`",
          ),
        );
      break;
    case "deployments":
      causes.push(...validateDeployment(spec, oldSpec));
      break;
    case "services":
      causes.push(...validateService(spec, oldSpec));
      break;
    case "poddisruptionbudgets":
      causes.push(...validatePdb(spec));
      break;
    case "networkpolicies":
      causes.push(...validateNetworkPolicy(spec));
      break;
    case "roles":
      causes.push(...validateRole(object));
      break;
    case "rolebindings":
      causes.push(...validateRoleBinding(object, old));
      break;
    case "secrets":
    case "configmaps":
      causes.push(...validateData(t, object, old));
      break;
  }
  return causes;
}

function withoutImages(spec: Obj): unknown {
  const strip = (list: unknown) => arr(list).map((c) => ({ ...(obj(c) ?? {}), image: undefined }));
  return JSON.parse(
    JSON.stringify({
      ...spec,
      containers: strip(spec.containers),
      initContainers: strip(spec.initContainers),
      activeDeadlineSeconds: undefined,
      tolerations: undefined,
      terminationGracePeriodSeconds: undefined,
    }),
  );
}

function validateDeployment(spec: Obj, oldSpec: Obj | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const replicas = num(spec.replicas);
  if (replicas !== undefined && replicas < 0)
    causes.push(invalidValue("spec.replicas", replicas, "must be greater than or equal to 0"));
  const selector = obj(spec.selector);
  if (isEmptySelector(selector))
    causes.push(invalidValue("spec.selector", {}, "empty selector is invalid for deployment"));
  else causes.push(...validateLabelSelector(selector ?? {}, "spec.selector"));
  const template = obj(spec.template) ?? {};
  const labels = (obj(obj(template.metadata)?.labels) ?? {}) as Record<string, string>;
  if (selector !== undefined && !isEmptySelector(selector) && !matchesLabelSelector(selector, labels))
    causes.push(
      invalidValue("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"),
    );
  causes.push(...validateLabels(labels, "spec.template.metadata.labels"));
  causes.push(
    ...validatePodSpec(obj(template.spec) ?? {}, { path: "spec.template.spec", restartPolicies: ["Always"] }),
  );
  const strategy = str(obj(spec.strategy)?.type);
  if (strategy !== undefined && !["RollingUpdate", "Recreate"].includes(strategy))
    causes.push(unsupported("spec.strategy.type", strategy, ["Recreate", "RollingUpdate"]));
  if (oldSpec !== undefined && !jsonEqual(oldSpec.selector, spec.selector))
    causes.push(invalidValue("spec.selector", spec.selector, "field is immutable"));
  return causes;
}

function validateService(spec: Obj, oldSpec: Obj | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
  const type = str(spec.type) ?? "ClusterIP";
  if (!TYPES.includes(type)) causes.push(unsupported("spec.type", type, TYPES));
  const ports = arr(spec.ports);
  const headless = spec.clusterIP === "None";
  if (ports.length === 0 && type !== "ExternalName" && !headless) causes.push(required("spec.ports"));
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((x, i) => {
    const p = obj(x) ?? {};
    const at = `spec.ports[${i}]`;
    const name = str(p.name) ?? "";
    if (ports.length > 1 && name === "") causes.push(required(`${at}.name`));
    if (name !== "" && !isDns1123Label(name))
      causes.push(invalidValue(`${at}.name`, name, "must be a DNS-1123 label"));
    if (name !== "" && names.has(name)) causes.push(duplicate(`${at}.name`, name));
    names.add(name);
    const port = num(p.port) ?? 0;
    if (port < 1 || port > 65535)
      causes.push(invalidValue(`${at}.port`, port, "must be between 1 and 65535, inclusive"));
    const proto = str(p.protocol) ?? "TCP";
    if (!["TCP", "UDP", "SCTP"].includes(proto))
      causes.push(unsupported(`${at}.protocol`, proto, ["SCTP", "TCP", "UDP"]));
    if (keys.has(`${port}/${proto}`)) causes.push(duplicate(at, { port, protocol: proto }));
    keys.add(`${port}/${proto}`);
    if (p.targetPort !== undefined) causes.push(...validateIntOrName(p.targetPort, `${at}.targetPort`));
    if (p.nodePort !== undefined && type === "ClusterIP")
      causes.push(forbiddenField(`${at}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
  });
  causes.push(...validateLabels(obj(spec.selector) ?? {}, "spec.selector"));
  if (
    oldSpec !== undefined &&
    oldSpec.clusterIP !== undefined &&
    spec.clusterIP !== undefined &&
    spec.clusterIP !== oldSpec.clusterIP
  )
    causes.push(invalidValue("spec.clusterIP", spec.clusterIP, "field is immutable"));
  return causes;
}

function intOrPercent(value: unknown, at: string): StatusCause[] {
  if (typeof value === "number")
    return value >= 0 ? [] : [invalidValue(at, value, "must be greater than or equal to 0")];
  if (typeof value === "string") {
    const m = /^(\d+)%$/.exec(value);
    if (!m)
      return [
        invalidValue(at, value, "a valid percent string must be a numeric string followed by an ending '%'"),
      ];
    return Number(m[1]) <= 100 ? [] : [invalidValue(at, value, "must not be greater than 100%")];
  }
  return [];
}

function validatePdb(spec: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined)
    causes.push(invalidValue("spec", spec, "minAvailable and maxUnavailable cannot be both set"));
  causes.push(
    ...intOrPercent(spec.minAvailable, "spec.minAvailable"),
    ...intOrPercent(spec.maxUnavailable, "spec.maxUnavailable"),
  );
  const selector = obj(spec.selector);
  if (selector !== undefined) causes.push(...validateLabelSelector(selector, "spec.selector"));
  return causes;
}

function validateData(t: ResourceType, o: Obj, old: Obj | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const data = obj(o.data) ?? {};
  const binary = obj(o.binaryData) ?? {};
  let size = 0;
  for (const [field, map] of [
    ["data", data],
    ["binaryData", binary],
  ] as const)
    for (const [k, v] of Object.entries(map)) {
      if (!isConfigMapKey(k))
        causes.push(
          invalidValue(
            `${field}[${k}]`,
            k,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
          ),
        );
      if (field === "binaryData" && Object.hasOwn(data, k))
        causes.push(invalidValue(`binaryData[${k}]`, k, "duplicate of key present in data"));
      size +=
        typeof v === "string"
          ? t.plural === "secrets" || field === "binaryData"
            ? Math.floor((v.length * 3) / 4)
            : Buffer.byteLength(v)
          : 0;
    }
  if (size > DATA_MAX_BYTES)
    causes.push({
      reason: "FieldValueTooLong",
      message: `Too long: must have at most ${DATA_MAX_BYTES} bytes`,
      field: "data",
    });
  if (t.plural === "secrets") {
    if (old !== undefined && (old.type ?? "Opaque") !== (o.type ?? "Opaque"))
      causes.push(invalidValue("type", o.type, "field is immutable"));
    if (o.type === "kubernetes.io/tls")
      for (const k of ["tls.crt", "tls.key"]) if (data[k] === undefined) causes.push(required(`data[${k}]`));
  }
  if (
    old?.immutable === true &&
    (!jsonEqual(old.data, o.data) || !jsonEqual(old.binaryData, o.binaryData) || o.immutable !== true)
  )
    causes.push(forbiddenField("data", "field is immutable when `immutable` is set"));
  return causes;
}
