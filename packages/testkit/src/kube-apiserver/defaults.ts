/**
 * Server-side defaulting and initial status, as the API server applies them on create and update
 * (the defaulting functions of each API group and the registry strategies' PrepareForCreate): what
 * a client reads back after a write, so that a test sees the object a cluster would store.
 *
 * Only the defaults of the fields the served kinds use are applied; each is listed in
 * docs/kubernetes.md.
 *
 * @module
 */
import { arr, type Obj, obj, str } from "./json.ts";
import type { ResourceType } from "./resources.ts";

/** Applies the defaults of `t` to `o` in place. */
export function applyDefaults(t: ResourceType, o: Obj, allocateIp: () => string): void {
  const spec = obj(o.spec);
  switch (t.plural) {
    case "pods":
      if (spec !== undefined) defaultPodSpec(spec);
      break;
    case "deployments":
      if (spec !== undefined) {
        spec.replicas ??= 1;
        spec.revisionHistoryLimit ??= 10;
        spec.progressDeadlineSeconds ??= 600;
        spec.strategy ??= {};
        const strategy = spec.strategy as Obj;
        strategy.type ??= "RollingUpdate";
        if (strategy.type === "RollingUpdate")
          strategy.rollingUpdate ??= { maxUnavailable: "25%", maxSurge: "25%" };
        const podSpec = obj(obj(spec.template)?.spec);
        if (podSpec !== undefined) defaultPodSpec(podSpec);
      }
      break;
    case "services":
      if (spec !== undefined) {
        spec.type ??= "ClusterIP";
        spec.sessionAffinity ??= "None";
        if (spec.type !== "ExternalName") {
          spec.clusterIP ??= allocateIp();
          spec.clusterIPs ??= [spec.clusterIP];
          spec.ipFamilies ??= ["IPv4"];
          spec.ipFamilyPolicy ??= "SingleStack";
          spec.internalTrafficPolicy ??= "Cluster";
        }
        for (const p of arr(spec.ports).map(obj)) {
          if (p === undefined) continue;
          p.protocol ??= "TCP";
          p.targetPort ??= p.port;
        }
      }
      break;
    case "secrets": {
      o.type ??= "Opaque";
      // stringData is write-only: merged into data (base64) and never stored.
      const stringData = obj(o.stringData);
      if (stringData !== undefined) {
        const data = (obj(o.data) ?? {}) as Obj;
        for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString("base64");
        o.data = data;
        delete o.stringData;
      }
      break;
    }
    case "networkpolicies":
      if (spec !== undefined) {
        spec.policyTypes ??= spec.egress === undefined ? ["Ingress"] : ["Ingress", "Egress"];
        for (const dir of ["ingress", "egress"])
          for (const rule of arr(spec[dir]).map(obj))
            for (const p of arr(rule?.ports).map(obj)) if (p !== undefined) p.protocol ??= "TCP";
      }
      break;
    case "namespaces": {
      const meta = obj(o.metadata) ?? {};
      const labels = (obj(meta.labels) ?? {}) as Obj;
      labels["kubernetes.io/metadata.name"] = meta.name;
      meta.labels = labels;
      o.spec = { finalizers: ["kubernetes"], ...(spec ?? {}) };
      break;
    }
  }
}

function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.serviceAccountName ??= "default";
  for (const v of arr(spec.volumes).map(obj)) {
    if (v === undefined) continue;
    const secret = obj(v.secret);
    if (secret !== undefined) secret.defaultMode ??= 0o644;
    const cm = obj(v.configMap);
    if (cm !== undefined) cm.defaultMode ??= 0o644;
    const hostPath = obj(v.hostPath);
    if (hostPath !== undefined) hostPath.type ??= "";
    const sources = [
      "secret",
      "configMap",
      "emptyDir",
      "hostPath",
      "projected",
      "persistentVolumeClaim",
      "downwardAPI",
      "csi",
      "ephemeral",
      "image",
      "nfs",
    ];
    if (!sources.some((s) => v[s] !== undefined)) v.emptyDir = {};
  }
  for (const c of [...arr(spec.initContainers), ...arr(spec.containers)].map(obj)) {
    if (c === undefined) continue;
    const image = str(c.image) ?? "";
    const tag = image.includes("@") ? "digest" : /:[^/]+$/.exec(image)?.[0].slice(1);
    c.imagePullPolicy ??= tag === undefined || tag === "latest" ? "Always" : "IfNotPresent";
    c.terminationMessagePath ??= "/dev/termination-log";
    c.terminationMessagePolicy ??= "File";
    for (const p of arr(c.ports).map(obj)) if (p !== undefined) p.protocol ??= "TCP";
    const resources = (obj(c.resources) ?? {}) as Obj;
    c.resources = resources;
    // Requests default to limits for every resource that has a limit and no request.
    const limits = obj(resources.limits);
    if (limits !== undefined) resources.requests = { ...limits, ...(obj(resources.requests) ?? {}) };
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"].map((k) => obj(c[k]))) {
      if (probe === undefined) continue;
      probe.timeoutSeconds ??= 1;
      probe.periodSeconds ??= 10;
      probe.successThreshold ??= 1;
      probe.failureThreshold ??= 3;
      const http = obj(probe.httpGet);
      if (http !== undefined) http.scheme ??= "HTTP";
      const grpc = obj(probe.grpc);
      if (grpc !== undefined) grpc.service ??= "";
    }
  }
}

/** The status an object of `t` starts with (the body's status is ignored on create). */
export function initialStatus(t: ResourceType, o: Obj): unknown {
  switch (t.plural) {
    case "pods": {
      const spec = obj(o.spec) ?? {};
      return { phase: "Pending", qosClass: qosClassOf(spec) };
    }
    case "namespaces":
      return { phase: "Active" };
    case "services":
      return { loadBalancer: {} };
    case "deployments":
    case "poddisruptionbudgets":
      return {};
    default:
      return o.status;
  }
}

// Guaranteed when every container's cpu and memory requests equal their limits, BestEffort when
// none sets any, Burstable otherwise (Pod QoS classes).
function qosClassOf(spec: Obj): string {
  const containers = arr(spec.containers).map((c) => obj(obj(c)?.resources) ?? {});
  const any = containers.some(
    (r) => Object.keys(obj(r.requests) ?? {}).length + Object.keys(obj(r.limits) ?? {}).length > 0,
  );
  if (!any) return "BestEffort";
  const guaranteed = containers.every((r) =>
    ["cpu", "memory"].every((k) => {
      const l = obj(r.limits)?.[k];
      return l !== undefined && String(obj(r.requests)?.[k] ?? l) === String(l);
    }),
  );
  return guaranteed ? "Guaranteed" : "Burstable";
}
