/**
 * The manifests of `keyward serve` on Kubernetes: N replicas on PostgreSQL, a Service per listener
 * (RA-TLS gRPC, Admin, ops), a PodDisruptionBudget, NetworkPolicies that let only labelled operator
 * pods reach the Admin listener and only a monitoring namespace the metrics, probes on the ops
 * listener, SGX device resources in hardware mode, and every secret (master key, Admin TLS material,
 * the PostgreSQL URL, the simulated platform) mounted as a file — never an environment variable.
 * Pods run with the restricted Pod Security profile.
 *
 * @module
 */
import type { Cond, Manifest, Render } from "./render.ts";
import type { Settings } from "./settings.ts";

/** The listeners' ports. */
export const PORTS = { service: 7443, admin: 7444, ops: 9090, grpcHealth: 9095 } as const;
/** Where the pod keeps its data and finds its secrets. */
export const PATHS = {
  data: "/var/lib/keyward",
  secrets: "/var/run/secrets/keyward",
  /** Where the ConfigMap with keyward.yaml is mounted (`--config-map`). */
  config: "/etc/keyward",
} as const;

// The simulated platform's files (`keyward sim init`), as keys of one Secret mapped back to paths.
const SIMULATION_FILES = [
  "platform.json",
  "certificates.json",
  "root.pem",
  "pck-chain.pem",
  "collateral-sgx.json",
  "collateral-tdx.json",
  "sealing-secret.bin",
  "keys/root.key",
  "keys/pck-ca.key",
  "keys/pck.key",
  "keys/attestation.key",
  "keys/tcb-signing.key",
];

/** Secret files: read by the non-root user through its group (fsGroup), by no one else. */
const SECRET_MODE = 0o440;
const UID = 65532;

/** Labels every object carries, and the subset that selects the server's pods. */
export function labels(
  r: Render,
  component: string,
): { all: Record<string, string>; selector: Record<string, string> } {
  const selector = {
    "app.kubernetes.io/name": "keyward",
    "app.kubernetes.io/instance": r.value(".Release.Name", "keyward"),
    "app.kubernetes.io/component": component,
  };
  return {
    selector,
    all: {
      ...selector,
      "app.kubernetes.io/part-of": "keyward",
      "app.kubernetes.io/managed-by": r.value(".Release.Service", "keyward-cli"),
    },
  };
}

/** The pod- and container-level security context of the restricted Pod Security profile. */
export function restricted(): { pod: Record<string, unknown>; container: Record<string, unknown> } {
  return {
    pod: {
      runAsNonRoot: true,
      runAsUser: UID,
      runAsGroup: UID,
      fsGroup: UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    container: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    },
  };
}

/** The service's manifests. */
export function serviceManifests(r: Render, s: Settings): Manifest[] {
  const on: Cond = { cli: s.service.enabled, helm: ".Values.service.enabled" };
  const hw: Cond = { cli: s.hardware.enabled, helm: ".Values.hardware.enabled" };
  const sim: Cond = { cli: !s.hardware.enabled, helm: "not .Values.hardware.enabled" };
  const namespace = r.value(".Release.Namespace", s.namespace);
  const { all, selector } = labels(r, "server");
  const meta = (name: string, extra: Record<string, string> = {}) => ({
    name,
    namespace,
    labels: { ...all, ...extra },
  });
  const sec = restricted();
  const secretVolume = (name: string, expr: string, secretName: string, items: [string, string][]) => ({
    name,
    secret: {
      secretName: r.value(expr, secretName),
      defaultMode: SECRET_MODE,
      items: items.map(([key, path]) => ({ key, path })),
    },
  });
  const sgx = r.entries(hw, {
    "sgx.intel.com/epc": r.value(".Values.hardware.epc", s.hardware.epc),
    "sgx.intel.com/enclave": "1",
    "sgx.intel.com/provision": "1",
  });
  const configured: Cond = { cli: s.configMap !== "", helm: ".Values.configMap" };
  const postgresSecretWanted: Cond = {
    cli: s.service.enabled && s.postgres.url !== "",
    helm: "and .Values.service.enabled .Values.postgres.url",
  };

  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta("keyward"),
    spec: {
      replicas: r.value(".Values.service.replicas", s.service.replicas),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      // Replace one replica at a time and never go below the wanted count.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: all },
        spec: {
          serviceAccountName: "keyward",
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: sec.pod,
          ...r.entries(hw, {
            nodeSelector: r.block(".Values.hardware.nodeSelector", s.hardware.nodeSelector),
          }),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector },
            },
          ],
          containers: [
            {
              name: "keyward",
              image: r.value(".Values.image", s.image),
              args: [
                "serve",
                `--listen=0.0.0.0:${PORTS.service}`,
                `--admin-listen=0.0.0.0:${PORTS.admin}`,
                `--ops-listen=0.0.0.0:${PORTS.ops}`,
                `--grpc-health-listen=0.0.0.0:${PORTS.grpcHealth}`,
                `--data-dir=${PATHS.data}`,
                `--database-url-file=${PATHS.secrets}/postgres/url`,
                `--master-key-file=${PATHS.secrets}/master-key/master.key`,
                ...r.items(sim, ["--simulation"]),
                ...r.items(configured, [`--config=${PATHS.config}/keyward.yaml`]),
                ...r.items(
                  {
                    cli: s.hardware.enabled && s.hardware.pccsUrl !== "",
                    helm: "and .Values.hardware.enabled .Values.hardware.pccsUrl",
                  },
                  ["--pccs-url", r.value(".Values.hardware.pccsUrl", s.hardware.pccsUrl)],
                ),
              ],
              ports: [
                { name: "service", containerPort: PORTS.service, protocol: "TCP" },
                { name: "admin", containerPort: PORTS.admin, protocol: "TCP" },
                { name: "ops", containerPort: PORTS.ops, protocol: "TCP" },
                { name: "grpc-health", containerPort: PORTS.grpcHealth, protocol: "TCP" },
              ],
              startupProbe: {
                // --grpc-probe: grpc.health.v1 on the plaintext h2c listener (--grpc-health-listen),
                // which a kubelet reaches without a client certificate.
                ...r.entries(
                  { cli: s.grpcProbe, helm: ".Values.grpcProbe" },
                  { grpc: { port: PORTS.grpcHealth } },
                ),
                ...r.entries(
                  { cli: !s.grpcProbe, helm: "not .Values.grpcProbe" },
                  { httpGet: { path: "/healthz", port: "ops" } },
                ),
                periodSeconds: 2,
                failureThreshold: 60,
              },
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
                requests: { cpu: "250m", memory: "256Mi", ...sgx },
                limits: { memory: "512Mi", ...sgx },
              },
              securityContext: sec.container,
              volumeMounts: [
                { name: "data", mountPath: PATHS.data },
                { name: "tmp", mountPath: "/tmp" },
                { name: "postgres", mountPath: `${PATHS.secrets}/postgres`, readOnly: true },
                { name: "master-key", mountPath: `${PATHS.secrets}/master-key`, readOnly: true },
                { name: "admin-tls", mountPath: `${PATHS.data}/admin`, readOnly: true },
                ...r.items(sim, [{ name: "simulation", mountPath: `${PATHS.data}/sim`, readOnly: true }]),
                ...r.items(configured, [{ name: "config", mountPath: PATHS.config, readOnly: true }]),
              ],
            },
          ],
          volumes: [
            { name: "data", emptyDir: {} },
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
            secretVolume("postgres", ".Values.postgres.existingSecret", s.postgres.existingSecret, [
              ["url", "url"],
            ]),
            secretVolume("master-key", ".Values.secrets.masterKey", s.secrets.masterKey, [
              ["master.key", "master.key"],
            ]),
            // The Admin listener reads DATA_DIR/admin/{ca.pem,server.pem,server.key}: a standard TLS Secret mapped there.
            secretVolume("admin-tls", ".Values.secrets.adminTls", s.secrets.adminTls, [
              ["tls.crt", "server.pem"],
              ["tls.key", "server.key"],
              ["ca.crt", "ca.pem"],
            ]),
            ...r.items(configured, [
              {
                name: "config",
                configMap: {
                  name: r.value(".Values.configMap", s.configMap),
                  items: [{ key: "keyward.yaml", path: "keyward.yaml" }],
                },
              },
            ]),
            ...r.items(sim, [
              secretVolume(
                "simulation",
                ".Values.secrets.simulation",
                s.secrets.simulation,
                SIMULATION_FILES.map((f) => [f.replace("keys/", ""), f]),
              ),
            ]),
          ],
        },
      },
    },
  };

  const service = (name: string, port: keyof typeof PORTS, component: string) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(name, { "keyward.dev/listener": component }),
    spec: {
      type: "ClusterIP",
      selector,
      ports: [{ name: port, port: PORTS[port], targetPort: port, protocol: "TCP" }],
    },
  });
  const policy = (name: string, ingress: unknown[]) => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: meta(name),
    spec: { podSelector: { matchLabels: selector }, policyTypes: ["Ingress"], ingress },
  });
  const a = s.networkPolicy.admin;
  return [
    {
      file: "namespace.yaml",
      cliOnly: true,
      object: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: s.namespace,
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
          },
        },
      },
      when: on,
    },
    {
      file: "serviceaccount.yaml",
      when: on,
      object: {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: meta("keyward"),
        automountServiceAccountToken: false,
      },
    },
    {
      file: "secret-postgres.yaml",
      when: postgresSecretWanted,
      object: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: meta(r.value(".Values.postgres.existingSecret", s.postgres.existingSecret)),
        type: "Opaque",
        stringData: { url: r.value(".Values.postgres.url", s.postgres.url) },
      },
    },
    { file: "deployment.yaml", when: on, object: deployment },
    { file: "services.yaml", when: on, object: service("keyward", "service", "service") },
    { file: "services.yaml", when: on, object: service("keyward-admin", "admin", "admin") },
    { file: "services.yaml", when: on, object: service("keyward-ops", "ops", "ops") },
    {
      file: "poddisruptionbudget.yaml",
      when: on,
      object: {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: meta("keyward"),
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
      },
    },
    // Deny every ingress to the server's pods, then open each listener to whom it serves.
    { file: "networkpolicies.yaml", when: on, object: policy("keyward-deny-ingress", []) },
    {
      file: "networkpolicies.yaml",
      when: on,
      object: policy("keyward-allow-service", [{ ports: [{ protocol: "TCP", port: PORTS.service }] }]),
    },
    {
      file: "networkpolicies.yaml",
      when: on,
      object: policy("keyward-allow-admin", [
        {
          from: [
            {
              namespaceSelector: {
                matchLabels: r.block(".Values.networkPolicy.admin.namespaceLabels", a.namespaceLabels),
              },
              podSelector: { matchLabels: r.block(".Values.networkPolicy.admin.podLabels", a.podLabels) },
            },
          ],
          ports: [{ protocol: "TCP", port: PORTS.admin }],
        },
      ]),
    },
    {
      file: "networkpolicies.yaml",
      when: on,
      object: policy("keyward-allow-metrics", [
        {
          from: [
            {
              namespaceSelector: {
                matchLabels: r.block(
                  ".Values.networkPolicy.metrics.namespaceLabels",
                  s.networkPolicy.metrics.namespaceLabels,
                ),
              },
            },
          ],
          ports: [{ protocol: "TCP", port: PORTS.ops }],
        },
      ]),
    },
  ];
}
