/**
 * The licensing server's manifests (issue 14): a Deployment, its ServiceAccount, a Role limited to
 * pods in its own namespace (the enclave launcher creates, watches and deletes one pod per user
 * enclave there) plus `get` on its own Deployment (the owner of those pods), the RoleBinding, a
 * Service, and TPM access — the node's /dev/tpmrm0 through a device plugin (unprivileged), through a
 * hostPath (privileged: the device cgroup of an unprivileged container refuses the device), or a
 * swtpm sidecar for development.
 *
 * The server's arguments are the contract with `keyward licensing serve` (issue 14): `--listen`,
 * `--ops-listen`, `--data-dir`, `--tpm device:PATH|swtpm:HOST:PORT`, `--kubernetes-namespace`,
 * `--launcher-id`, `--owner-deployment`, `--secrets-dir`.
 *
 * @module
 */
import type { Cond, Manifest, Render } from "./render.ts";
import { labels, restricted } from "./service.ts";
import type { Settings } from "./settings.ts";

/** The licensing server's ports. */
export const LICENSING_PORTS = { grpc: 8443, ops: 9091, swtpm: 2321, swtpmCtrl: 2322 } as const;
const NAME = "keyward-licensing";

/** The licensing server's manifests. */
export function licensingManifests(r: Render, s: Settings): Manifest[] {
  const on: Cond = { cli: s.licensing.enabled, helm: ".Values.licensing.enabled" };
  const tpm = (mode: Settings["licensing"]["tpm"]): Cond => ({
    cli: s.licensing.tpm === mode,
    helm: `eq .Values.licensing.tpm "${mode}"`,
  });
  const namespace = r.value(".Release.Namespace", s.namespace);
  const { all, selector } = labels(r, "licensing");
  const meta = (name: string) => ({ name, namespace, labels: all });
  const sec = restricted();
  const tpmResource = { [r.value(".Values.licensing.tpmResource", s.licensing.tpmResource)]: "1" };

  const server = {
    name: "licensing",
    image: r.value(".Values.licensing.image", s.licensing.image),
    args: [
      "licensing",
      "serve",
      `--listen=0.0.0.0:${LICENSING_PORTS.grpc}`,
      `--ops-listen=0.0.0.0:${LICENSING_PORTS.ops}`,
      "--data-dir=/var/lib/keyward",
      "--secrets-dir=/var/run/secrets/keyward/licensing",
      ...r.items(tpm("swtpm"), [`--tpm=swtpm:127.0.0.1:${LICENSING_PORTS.swtpm}`]),
      ...r.items({ cli: s.licensing.tpm !== "swtpm", helm: `ne .Values.licensing.tpm "swtpm"` }, [
        "--tpm=device:/dev/tpmrm0",
      ]),
      // The launcher's namespace is the pod's own (the Role grants nothing elsewhere).
      "--kubernetes-namespace=$(POD_NAMESPACE)",
      "--launcher-id=$(POD_NAMESPACE)",
      `--owner-deployment=${NAME}`,
    ],
    env: [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
    ports: [
      { name: "licensing", containerPort: LICENSING_PORTS.grpc, protocol: "TCP" },
      { name: "ops", containerPort: LICENSING_PORTS.ops, protocol: "TCP" },
    ],
    livenessProbe: {
      httpGet: { path: "/healthz", port: "ops" },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: "/readyz", port: "ops" },
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 2,
    },
    resources: {
      requests: { cpu: "250m", memory: "256Mi", ...r.entries(tpm("device"), tpmResource) },
      limits: { memory: "512Mi", ...r.entries(tpm("device"), tpmResource) },
    },
    securityContext: {
      ...r.entries(
        { cli: s.licensing.tpm !== "hostpath", helm: `ne .Values.licensing.tpm "hostpath"` },
        sec.container,
      ),
      // An unprivileged container's device cgroup refuses a device node mounted from the host.
      ...r.entries(tpm("hostpath"), { privileged: true }),
    },
    volumeMounts: [
      { name: "data", mountPath: "/var/lib/keyward" },
      { name: "tmp", mountPath: "/tmp" },
      { name: "licensing-secret", mountPath: "/var/run/secrets/keyward/licensing", readOnly: true },
      ...r.items(tpm("hostpath"), [{ name: "tpmrm0", mountPath: "/dev/tpmrm0" }]),
    ],
  };
  const swtpm = {
    name: "swtpm",
    image: r.value(".Values.licensing.swtpmImage", s.licensing.swtpmImage),
    args: [
      "socket",
      "--tpm2",
      "--tpmstate=dir=/var/lib/swtpm",
      `--server=type=tcp,bindaddr=127.0.0.1,port=${LICENSING_PORTS.swtpm}`,
      `--ctrl=type=tcp,bindaddr=127.0.0.1,port=${LICENSING_PORTS.swtpmCtrl}`,
      "--flags=not-need-init,startup-clear",
    ],
    resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "64Mi" } },
    securityContext: sec.container,
    volumeMounts: [{ name: "swtpm-state", mountPath: "/var/lib/swtpm" }],
  };
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(NAME),
    spec: {
      replicas: r.value(".Values.licensing.replicas", s.licensing.replicas),
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: all },
        spec: {
          serviceAccountName: NAME,
          // The launcher talks to the API server with this service account's token.
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          securityContext: sec.pod,
          containers: [server, ...r.items(tpm("swtpm"), [swtpm])],
          volumes: [
            { name: "data", emptyDir: {} },
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
            {
              name: "licensing-secret",
              secret: {
                secretName: r.value(".Values.licensing.secret", s.licensing.secret),
                defaultMode: 0o440,
              },
            },
            ...r.items(tpm("hostpath"), [
              { name: "tpmrm0", hostPath: { path: "/dev/tpmrm0", type: "CharDevice" } },
            ]),
            ...r.items(tpm("swtpm"), [
              { name: "swtpm-state", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
            ]),
          ],
        },
      },
    },
  };
  const psa = s.licensing.tpm === "hostpath" ? "privileged" : "restricted";
  return [
    {
      file: "licensing/namespace.yaml",
      cliOnly: true,
      when: on,
      object: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: s.namespace,
          labels: {
            "pod-security.kubernetes.io/enforce": psa,
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
          },
        },
      },
    },
    {
      file: "licensing/serviceaccount.yaml",
      when: on,
      object: {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: meta(NAME),
        automountServiceAccountToken: false,
      },
    },
    {
      file: "licensing/role.yaml",
      when: on,
      object: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: meta(`${NAME}-launcher`),
        rules: [
          { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "delete"] },
          { apiGroups: ["apps"], resources: ["deployments"], resourceNames: [NAME], verbs: ["get"] },
        ],
      },
    },
    {
      file: "licensing/role.yaml",
      when: on,
      object: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: meta(`${NAME}-launcher`),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${NAME}-launcher` },
        subjects: [{ kind: "ServiceAccount", name: NAME, namespace }],
      },
    },
    { file: "licensing/deployment.yaml", when: on, object: deployment },
    {
      file: "licensing/service.yaml",
      when: on,
      object: {
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(NAME),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [
            { name: "licensing", port: LICENSING_PORTS.grpc, targetPort: "licensing", protocol: "TCP" },
          ],
        },
      },
    },
  ];
}
