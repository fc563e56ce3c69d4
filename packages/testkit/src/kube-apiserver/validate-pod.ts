/**
 * Validation of a PodSpec (a Pod's `spec`, a Deployment's `spec.template.spec`): the checks of the
 * API server's pod validation that a manifest or a launcher can get wrong and the OpenAPI schema
 * cannot express — container and volume names, references between volume mounts and volumes,
 * probe handlers, resource requests against limits (extended resources such as
 * `sgx.intel.com/epc` must be whole numbers with requests equal to limits), security contexts and
 * the enumerations of the core API.
 *
 * @module
 */
import { arr, num, type Obj, obj, str } from "./json.ts";
import { isDns1123Label, isDns1123Subdomain, isEnvVarName, isIanaServiceName } from "./names.ts";
import {
  duplicate,
  forbiddenField,
  invalidValue,
  notFoundValue,
  required,
  type StatusCause,
  unsupported,
} from "./status.ts";
import { validateResources } from "./validate-resources.ts";

/** Where the spec is used: a Pod, or a pod template of a controller. */
export interface PodSpecContext {
  /** Field path of the spec (`spec`, `spec.template.spec`). */
  readonly path: string;
  /** Restart policies allowed (controllers accept only Always). */
  readonly restartPolicies: readonly string[];
}

const VOLUME_SOURCES = [
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
const HOST_PATH_TYPES = [
  "",
  "DirectoryOrCreate",
  "Directory",
  "FileOrCreate",
  "File",
  "Socket",
  "CharDevice",
  "BlockDevice",
];
/** Every problem of a PodSpec, with field paths under `ctx.path`. */
export function validatePodSpec(spec: Obj, ctx: PodSpecContext): StatusCause[] {
  const causes: StatusCause[] = [];
  const p = ctx.path;
  const volumes = new Set<string>();
  arr(spec.volumes).forEach((v, i) => {
    const vol = obj(v) ?? {};
    const at = `${p}.volumes[${i}]`;
    const name = str(vol.name) ?? "";
    if (!isDns1123Label(name)) causes.push(invalidValue(`${at}.name`, name, "must be a DNS-1123 label"));
    if (volumes.has(name)) causes.push(duplicate(`${at}.name`, name));
    volumes.add(name);
    const sources = VOLUME_SOURCES.filter((s) => vol[s] !== undefined);
    if (sources.length > 1)
      causes.push(forbiddenField(`${at}.${sources[1]}`, "may not specify more than 1 volume type"));
    const secret = obj(vol.secret);
    if (secret !== undefined && (str(secret.secretName) ?? "") === "")
      causes.push(required(`${at}.secret.secretName`));
    for (const src of [secret, obj(vol.configMap)]) {
      const mode = num(src?.defaultMode);
      if (mode !== undefined && (mode < 0 || mode > 0o777))
        causes.push(invalidValue(`${at}.defaultMode`, mode, "must be a number between 0 and 0777 (octal)"));
    }
    const hostPath = obj(vol.hostPath);
    if (hostPath !== undefined) {
      if ((str(hostPath.path) ?? "") === "") causes.push(required(`${at}.hostPath.path`));
      const type = str(hostPath.type) ?? "";
      if (!HOST_PATH_TYPES.includes(type))
        causes.push(unsupported(`${at}.hostPath.type`, type, HOST_PATH_TYPES));
    }
  });

  const containers = arr(spec.containers);
  if (containers.length === 0) causes.push(required(`${p}.containers`));
  const names = new Set<string>();
  for (const [list, field] of [
    [arr(spec.initContainers), "initContainers"],
    [containers, "containers"],
  ] as const)
    list.forEach((c, i) => {
      causes.push(...validateContainer(obj(c) ?? {}, `${p}.${field}[${i}]`, volumes, names));
    });

  const restart = str(spec.restartPolicy) ?? "Always";
  if (!ctx.restartPolicies.includes(restart))
    causes.push(unsupported(`${p}.restartPolicy`, restart, ctx.restartPolicies));
  const dns = str(spec.dnsPolicy);
  const DNS = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
  if (dns !== undefined && !DNS.includes(dns)) causes.push(unsupported(`${p}.dnsPolicy`, dns, DNS));
  const sa = str(spec.serviceAccountName);
  if (sa !== undefined && sa !== "" && !isDns1123Subdomain(sa))
    causes.push(invalidValue(`${p}.serviceAccountName`, sa, "must be a DNS-1123 subdomain"));
  const grace = num(spec.terminationGracePeriodSeconds);
  if (grace !== undefined && grace < 0)
    causes.push(
      invalidValue(`${p}.terminationGracePeriodSeconds`, grace, "must be greater than or equal to 0"),
    );
  causes.push(
    ...validateSeccomp(obj(obj(spec.securityContext)?.seccompProfile), `${p}.securityContext.seccompProfile`),
  );
  return causes;
}

function validateContainer(
  c: Obj,
  at: string,
  volumes: ReadonlySet<string>,
  names: Set<string>,
): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = str(c.name) ?? "";
  if (!isDns1123Label(name)) causes.push(invalidValue(`${at}.name`, name, "must be a DNS-1123 label"));
  else if (names.has(name)) causes.push(duplicate(`${at}.name`, name));
  names.add(name);
  if ((str(c.image) ?? "").trim() === "") causes.push(required(`${at}.image`));
  const pull = str(c.imagePullPolicy);
  const PULL = ["Always", "IfNotPresent", "Never"];
  if (pull !== undefined && !PULL.includes(pull))
    causes.push(unsupported(`${at}.imagePullPolicy`, pull, PULL));

  const portNames = new Set<string>();
  arr(c.ports).forEach((x, i) => {
    const port = obj(x) ?? {};
    const pa = `${at}.ports[${i}]`;
    const n = num(port.containerPort) ?? 0;
    if (n < 1 || n > 65535)
      causes.push(invalidValue(`${pa}.containerPort`, n, "must be between 1 and 65535, inclusive"));
    const pn = str(port.name);
    if (pn !== undefined) {
      if (!isIanaServiceName(pn))
        causes.push(invalidValue(`${pa}.name`, pn, "must be an IANA_SVC_NAME (at most 15 characters)"));
      if (portNames.has(pn)) causes.push(duplicate(`${pa}.name`, pn));
      portNames.add(pn);
    }
    causes.push(...protocol(port.protocol, `${pa}.protocol`));
  });

  arr(c.env).forEach((x, i) => {
    const e = obj(x) ?? {};
    const en = str(e.name) ?? "";
    if (!isEnvVarName(en))
      causes.push(
        invalidValue(
          `${at}.env[${i}].name`,
          en,
          "a valid environment variable name must consist only of printable ASCII characters other than '='",
        ),
      );
    const from = obj(e.valueFrom);
    if (from !== undefined) {
      if (e.value !== undefined && e.value !== "")
        causes.push(
          invalidValue(`${at}.env[${i}].valueFrom`, "", "may not be specified when `value` is not empty"),
        );
      if (Object.keys(from).length !== 1)
        causes.push(
          invalidValue(
            `${at}.env[${i}].valueFrom`,
            "",
            "may not have more than one field specified at a time",
          ),
        );
    }
  });

  const mountPaths = new Set<string>();
  arr(c.volumeMounts).forEach((x, i) => {
    const m = obj(x) ?? {};
    const vn = str(m.name) ?? "";
    if (!volumes.has(vn)) causes.push(notFoundValue(`${at}.volumeMounts[${i}].name`, vn));
    const mp = str(m.mountPath) ?? "";
    if (mp === "") causes.push(required(`${at}.volumeMounts[${i}].mountPath`));
    else if (mountPaths.has(mp))
      causes.push(invalidValue(`${at}.volumeMounts[${i}].mountPath`, mp, "must be unique"));
    mountPaths.add(mp);
  });

  causes.push(...validateResources(obj(c.resources) ?? {}, `${at}.resources`));
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"])
    causes.push(...validateProbe(obj(c[probe]), `${at}.${probe}`, probe !== "readinessProbe"));

  const sc = obj(c.securityContext);
  if (sc !== undefined) {
    if (sc.privileged === true && sc.allowPrivilegeEscalation === false)
      causes.push(
        invalidValue(
          `${at}.securityContext`,
          "",
          "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
        ),
      );
    const user = num(sc.runAsUser);
    if (user !== undefined && user < 0)
      causes.push(
        invalidValue(`${at}.securityContext.runAsUser`, user, "must be between 0 and 2147483647, inclusive"),
      );
    causes.push(...validateSeccomp(obj(sc.seccompProfile), `${at}.securityContext.seccompProfile`));
  }
  return causes;
}

function protocol(value: unknown, at: string): StatusCause[] {
  const P = ["TCP", "UDP", "SCTP"];
  const v = str(value);
  return v === undefined || P.includes(v) ? [] : [unsupported(at, v, P)];
}

/** The checks of a port given as an int or an IANA service name (probes, Services, policies). */
export function validateIntOrName(value: unknown, at: string): StatusCause[] {
  if (typeof value === "number")
    return value >= 1 && value <= 65535
      ? []
      : [invalidValue(at, value, "must be between 1 and 65535, inclusive")];
  if (typeof value === "string")
    return isIanaServiceName(value)
      ? []
      : [
          invalidValue(
            at,
            value,
            "must contain at least one letter (a-z) and be at most 15 characters (IANA_SVC_NAME)",
          ),
        ];
  return [required(at)];
}

function validateProbe(probe: Obj | undefined, at: string, successMustBeOne: boolean): StatusCause[] {
  if (probe === undefined) return [];
  const causes: StatusCause[] = [];
  const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => probe[h] !== undefined);
  if (handlers.length === 0) causes.push(required(at, "must specify a handler type"));
  if (handlers.length > 1)
    causes.push(forbiddenField(`${at}.${handlers[1]}`, "may not specify more than 1 handler type"));
  const http = obj(probe.httpGet);
  if (http !== undefined) causes.push(...validateIntOrName(http.port, `${at}.httpGet.port`));
  const tcp = obj(probe.tcpSocket);
  if (tcp !== undefined) causes.push(...validateIntOrName(tcp.port, `${at}.tcpSocket.port`));
  const grpc = obj(probe.grpc);
  if (grpc !== undefined) {
    const port = num(grpc.port) ?? 0;
    if (port < 1 || port > 65535)
      causes.push(invalidValue(`${at}.grpc.port`, port, "must be between 1 and 65535, inclusive"));
  }
  for (const f of [
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
  ]) {
    const v = num(probe[f]);
    if (v !== undefined && v < 0)
      causes.push(invalidValue(`${at}.${f}`, v, "must be greater than or equal to 0"));
  }
  const success = num(probe.successThreshold);
  if (successMustBeOne && success !== undefined && success !== 1)
    causes.push(invalidValue(`${at}.successThreshold`, success, "must be 1"));
  return causes;
}

function validateSeccomp(profile: Obj | undefined, at: string): StatusCause[] {
  if (profile === undefined) return [];
  const TYPES = ["Localhost", "RuntimeDefault", "Unconfined"];
  const type = str(profile.type) ?? "";
  if (!TYPES.includes(type)) return [unsupported(`${at}.type`, type, TYPES)];
  const local = str(profile.localhostProfile);
  if (type === "Localhost" && (local ?? "") === "")
    return [required(`${at}.localhostProfile`, "must be set when seccomp type is Localhost")];
  if (type !== "Localhost" && local !== undefined)
    return [forbiddenField(`${at}.localhostProfile`, "can only be set when seccomp type is Localhost")];
  return [];
}
