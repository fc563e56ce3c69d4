/**
 * The Pod an enclave runs in, and how a pod is read back as an enclave.
 *
 * One pod per (launcher, user, licence, instance), named by a hash of the four so that a repeated
 * launch addresses the same pod. Labels tie it to its user and licence by hashes (label values are
 * short and visible to anyone who can list pods; ids may be e-mail addresses), annotations carry the
 * ids themselves. The pod runs with the restricted Pod Security profile: non-root, no privilege
 * escalation, every capability dropped, RuntimeDefault seccomp, read-only root file system, no
 * service account token. On SGX hardware it requests the Intel SGX device plugin's resources
 * (`sgx.intel.com/epc` bytes of enclave page cache, `sgx.intel.com/enclave` and
 * `sgx.intel.com/provision` devices), which cannot be overcommitted: requests equal limits.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { V1OwnerReference, V1Pod } from "@kubernetes/client-node";
import type { EnclaveInstance, EnclaveSpec, EnclaveState, LaunchRequest } from "./launcher.ts";

/** Label and annotation keys the launcher writes and selects on. */
export const KEYS = {
  name: "app.kubernetes.io/name",
  component: "app.kubernetes.io/component",
  managedBy: "app.kubernetes.io/managed-by",
  launcher: "keyward.dev/launcher",
  user: "keyward.dev/user",
  licence: "keyward.dev/licence",
  userId: "keyward.dev/user-id",
  licenceId: "keyward.dev/licence-id",
  instance: "keyward.dev/instance",
} as const;

const MANAGED_BY = "keyward-licensing";

/** Pod-level settings of the Kubernetes launcher. */
export interface PodSettings {
  readonly namespace: string;
  /** This installation's id: pods of other installations in the namespace are never touched. */
  readonly launcherId: string;
  readonly serviceAccountName?: string;
  readonly owner?: V1OwnerReference;
  /** Seconds a stopped enclave gets to exit (default 10; revocation and expiry use 1). */
  readonly gracePeriodSeconds?: number;
  readonly cpu?: string;
  readonly memory?: string;
  /** Enclave page cache per enclave on SGX hardware (default "64Mi"). */
  readonly epc?: string;
  /** Node labels to run on; on hardware, default `intel.feature.node.kubernetes.io/sgx: "true"`. */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly runtimeClassName?: string;
  readonly imagePullSecrets?: readonly string[];
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|m|k|M|G|T)?$/;
const IMAGE = /^[a-z0-9]([a-z0-9._\-/:]*)(@sha256:[0-9a-f]{64})?$/i;

/**
 * Checks the launcher's settings.
 * @throws KeywardError ERR_LAUNCHER_CONFIG naming the field
 */
export function checkSettings(s: PodSettings): void {
  const bad = (field: string, why: string): never => {
    throw new KeywardError("ERR_LAUNCHER_CONFIG", `${field}: ${why}`, { detail: { field } });
  };
  if (!DNS1123_LABEL.test(s.namespace) || s.namespace.length > 63)
    bad("namespace", "must be a DNS-1123 label");
  if (s.launcherId === "" || s.launcherId.length > 63 || !LABEL_VALUE.test(s.launcherId))
    bad("launcherId", "must be a Kubernetes label value (1-63 of [A-Za-z0-9-_.])");
  for (const [field, q] of [
    ["cpu", s.cpu],
    ["memory", s.memory],
    ["epc", s.epc],
  ] as const)
    if (q !== undefined && !QUANTITY.test(q)) bad(field, `"${q}" is not a resource quantity`);
  const grace = s.gracePeriodSeconds;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0 || grace > 3600))
    bad("gracePeriodSeconds", "must be an integer between 0 and 3600");
}

/**
 * Checks one launch request.
 * @throws KeywardError ERR_LAUNCHER_CONFIG naming the field
 */
export function checkRequest(r: LaunchRequest): void {
  const bad = (field: string, why: string): never => {
    throw new KeywardError("ERR_LAUNCHER_CONFIG", `${field}: ${why}`, { detail: { field } });
  };
  for (const [field, v] of [
    ["userId", r.userId],
    ["licenceId", r.licenceId],
    ["instance", r.instance ?? "0"],
  ] as const)
    if (v.length === 0 || v.length > 256) bad(field, "must be 1 to 256 characters");
  const e = r.enclave;
  if (e.image.length > 512 || !IMAGE.test(e.image)) bad("enclave.image", "must be an image reference");
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) bad("enclave.port", "must be 1-65535");
  for (const k of Object.keys(e.env ?? {}))
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) bad("enclave.env", `"${k}" is not an environment variable name`);
}

/** A label value standing for an id: 40 hex digits of SHA-256 over a domain tag and the id. */
export function labelHash(kind: "user" | "licence", id: string): string {
  return createHash("sha256").update(`keyward/${kind}\0${id}`).digest("hex").slice(0, 40);
}

/** The pod name of an enclave: the same (launcher, user, licence, instance) gives the same name. */
export function podName(launcherId: string, r: LaunchRequest): string {
  const h = createHash("sha256")
    .update([launcherId, r.userId, r.licenceId, r.instance ?? "0"].join("\0"))
    .digest("hex");
  return `kw-enclave-${h.slice(0, 24)}`;
}

/** The label selector of this launcher's pods, optionally narrowed to a user and/or licence. */
export function selectorOf(launcherId: string, filter: { userId?: string; licenceId?: string } = {}): string {
  const parts = [`${KEYS.managedBy}=${MANAGED_BY}`, `${KEYS.launcher}=${launcherId}`];
  if (filter.userId !== undefined) parts.push(`${KEYS.user}=${labelHash("user", filter.userId)}`);
  if (filter.licenceId !== undefined) parts.push(`${KEYS.licence}=${labelHash("licence", filter.licenceId)}`);
  return parts.join(",");
}

/** The Pod manifest of an enclave. */
export function enclavePod(s: PodSettings, r: LaunchRequest): V1Pod {
  const e: EnclaveSpec = r.enclave;
  const hardware = e.hardware === true;
  const epc = s.epc ?? "64Mi";
  const limits: Record<string, string> = { cpu: s.cpu ?? "500m", memory: s.memory ?? "256Mi" };
  if (hardware)
    Object.assign(limits, {
      "sgx.intel.com/epc": epc,
      "sgx.intel.com/enclave": "1",
      "sgx.intel.com/provision": "1",
    });
  const nodeSelector =
    s.nodeSelector ?? (hardware ? { "intel.feature.node.kubernetes.io/sgx": "true" } : undefined);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName(s.launcherId, r),
      namespace: s.namespace,
      labels: {
        [KEYS.name]: "keyward-enclave",
        [KEYS.component]: "enclave",
        [KEYS.managedBy]: MANAGED_BY,
        [KEYS.launcher]: s.launcherId,
        [KEYS.user]: labelHash("user", r.userId),
        [KEYS.licence]: labelHash("licence", r.licenceId),
      },
      annotations: {
        [KEYS.userId]: r.userId,
        [KEYS.licenceId]: r.licenceId,
        [KEYS.instance]: r.instance ?? "0",
      },
      ...(s.owner === undefined ? {} : { ownerReferences: [{ ...s.owner, controller: false }] }),
    },
    spec: {
      // An enclave that exits is finished: the licensing server decides whether to launch another.
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(s.serviceAccountName === undefined ? {} : { serviceAccountName: s.serviceAccountName }),
      terminationGracePeriodSeconds: s.gracePeriodSeconds ?? 10,
      ...(nodeSelector === undefined ? {} : { nodeSelector: { ...nodeSelector } }),
      ...(s.runtimeClassName === undefined ? {} : { runtimeClassName: s.runtimeClassName }),
      ...(s.imagePullSecrets === undefined
        ? {}
        : { imagePullSecrets: s.imagePullSecrets.map((name) => ({ name })) }),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "enclave",
          image: e.image,
          ...(e.args === undefined ? {} : { args: [...e.args] }),
          env: [
            { name: "KEYWARD_ENCLAVE_PORT", value: String(e.port) },
            ...Object.entries(e.env ?? {}).map(([name, value]) => ({ name, value })),
          ],
          ports: [{ name: "enclave-tls", containerPort: e.port, protocol: "TCP" }],
          // Ready means the TLS listener accepts connections.
          readinessProbe: { tcpSocket: { port: "enclave-tls" }, periodSeconds: 2, failureThreshold: 3 },
          resources: { limits, requests: { ...limits } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
          },
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
      ],
      volumes: [{ name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }],
    },
  };
}

// Container states that will not get better by waiting (the kubelet keeps retrying pulls, but a
// launch should fail fast and say why).
const HOPELESS = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "CrashLoopBackOff",
]);

/** Why a starting pod will not become ready, or undefined while there is hope. */
export function startFailure(pod: V1Pod): string | undefined {
  const status = pod.status;
  if (status?.phase === "Failed" || status?.phase === "Succeeded") return status.reason ?? status.phase;
  for (const c of status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting?.reason;
    if (waiting !== undefined && HOPELESS.has(waiting)) return waiting;
    if (c.state?.terminated !== undefined) return c.state.terminated.reason ?? "Terminated";
  }
  const scheduled = status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable")
    return `Unschedulable: ${scheduled.message ?? ""}`.trim();
  return undefined;
}

/** True when the pod's Ready condition is True. */
export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

/** The enclave a pod stands for. */
export function instanceOf(pod: V1Pod, port: number | undefined): EnclaveInstance {
  const a = pod.metadata?.annotations ?? {};
  const failure = startFailure(pod);
  const state: EnclaveState =
    pod.metadata?.deletionTimestamp !== undefined
      ? "stopping"
      : failure !== undefined
        ? "terminated"
        : isReady(pod)
          ? "ready"
          : "starting";
  const declared = pod.spec?.containers[0]?.ports?.[0]?.containerPort;
  const ip = pod.status?.podIP;
  const p = port ?? declared;
  return {
    id: pod.metadata?.name ?? "",
    userId: a[KEYS.userId] ?? "",
    licenceId: a[KEYS.licenceId] ?? "",
    instance: a[KEYS.instance] ?? "",
    state,
    address: ip === undefined || p === undefined ? undefined : { host: ip, port: p },
    ...(failure === undefined ? {} : { reason: failure }),
  };
}

/** True when a pod found under the enclave's name is the same enclave (not someone else's). */
export function isSameEnclave(pod: V1Pod, launcherId: string, r: LaunchRequest): boolean {
  const l = pod.metadata?.labels ?? {};
  const a = pod.metadata?.annotations ?? {};
  return (
    l[KEYS.managedBy] === MANAGED_BY &&
    l[KEYS.launcher] === launcherId &&
    a[KEYS.userId] === r.userId &&
    a[KEYS.licenceId] === r.licenceId &&
    a[KEYS.instance] === (r.instance ?? "0")
  );
}
