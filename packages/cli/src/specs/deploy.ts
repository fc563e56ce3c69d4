/** `keyward deploy kubernetes`: manifests for Kubernetes, printed (as cloud-native CLIs do). */
import type { CommandSpec } from "./types.ts";

/** `keyward deploy kubernetes`. */
export const deployKubernetes = {
  name: "deploy kubernetes",
  summary: "print Kubernetes manifests for keyward serve (or, with --licensing, the licensing server)",
  synopsis:
    "[--replicas N] [--postgres URL | --postgres-secret NAME] [--hardware] [--namespace NS] [--image IMAGE] [--licensing] [...] [--json]",
  description:
    "Prints YAML documents for  kubectl apply -f -  (with --json, one v1 List). Nothing is read or contacted: " +
    "the Secrets the pods mount (master key, Admin TLS, PostgreSQL URL, simulated platform) are created " +
    "beforehand, and no secret is ever passed on the command line or as an environment variable " +
    "(docs/kubernetes.md). The Helm chart in deploy/helm/keyward renders the same manifests.",
  options: {
    namespace: { type: "string", value: "NS", help: "the namespace (default: keyward)" },
    replicas: {
      type: "string",
      value: "N",
      help: "replicas of keyward serve, 1-100 (default: 2); with --licensing, of the licensing server (default: 1)",
    },
    image: {
      type: "string",
      value: "IMAGE",
      help: "the keyward image (default: localhost/keyward/keyward:VERSION, as deploy/build_image.sh tags it)",
    },
    postgres: {
      type: "string",
      value: "URL",
      help: "a PostgreSQL URL without a password, written into the PostgreSQL Secret (a URL with a password is refused: use --postgres-secret)",
    },
    "postgres-secret": {
      type: "string",
      value: "NAME",
      help: "the Secret holding the PostgreSQL URL under key url (default: keyward-postgres)",
    },
    hardware: {
      type: "boolean",
      help: "SGX hardware mode: SGX device-plugin resources and nodes, no --simulation",
    },
    epc: {
      type: "string",
      value: "QUANTITY",
      help: "enclave page cache per pod in hardware mode (default: 128Mi)",
    },
    "pccs-url": {
      type: "string",
      value: "URL",
      help: "PCS or PCCS for collateral in hardware mode (default: Intel's PCS)",
    },
    "master-key-secret": {
      type: "string",
      value: "NAME",
      help: "the Secret holding the 32-byte master key under master.key (default: keyward-master-key)",
    },
    "admin-tls-secret": {
      type: "string",
      value: "NAME",
      help: "the kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) of the Admin listener (default: keyward-admin-tls)",
    },
    "simulation-secret": {
      type: "string",
      value: "NAME",
      help: "the Secret with the simulated platform's files, without --hardware (default: keyward-sim)",
    },
    "admin-from-namespace": {
      type: "string",
      value: "LABEL=VALUE[,...]",
      help: "labels of the namespaces whose operator pods may reach the Admin listener (default: keyward.dev/admin-access=true)",
    },
    "admin-from-pod": {
      type: "string",
      value: "LABEL=VALUE[,...]",
      help: "labels of the operator pods that may reach the Admin listener (default: keyward.dev/admin-access=true)",
    },
    "metrics-from-namespace": {
      type: "string",
      value: "LABEL=VALUE[,...]",
      help: "labels of the namespaces that may scrape /metrics (default: kubernetes.io/metadata.name=monitoring)",
    },
    "grpc-probe": {
      type: "boolean",
      help: "probe startup through gRPC health checking (grpc.health.v1, plaintext h2c on port 9095)",
    },
    "config-map": {
      type: "string",
      value: "NAME",
      help: "a ConfigMap with keyward.yaml (the configuration file: paths, never secrets), mounted and passed as --config",
    },
    licensing: {
      type: "boolean",
      help: "print the licensing server's manifests instead (Deployment, ServiceAccount, a Role on pods, RoleBinding, TPM access)",
    },
    "licensing-image": {
      type: "string",
      value: "IMAGE",
      help: "the licensing server's image (default: localhost/keyward/licensing:VERSION)",
    },
    tpm: {
      type: "string",
      value: "device|hostpath|swtpm",
      choices: ["device", "hostpath", "swtpm"],
      help: "the licensing server's TPM: the node's /dev/tpmrm0 from a device plugin (default), from a hostPath (privileged), or a swtpm sidecar (development)",
    },
    "tpm-resource": {
      type: "string",
      value: "NAME",
      help: "the extended resource the TPM device plugin advertises (default: squat.ai/tpmrm0)",
    },
    "swtpm-image": { type: "string", value: "IMAGE", help: "the swtpm sidecar's image (with --tpm swtpm)" },
    "licensing-secret": {
      type: "string",
      value: "NAME",
      help: "the Secret with the licensing server's keys (default: keyward-licensing)",
    },
  },
  json: true,
  examples: [
    "--replicas 3 --postgres postgres://keyward@db.keyward.svc:5432/keyward | kubectl apply -f -",
    "--hardware --postgres-secret keyward-postgres --pccs-url https://pccs.internal:8081",
    "--licensing --tpm swtpm",
  ],
} as const satisfies CommandSpec;
