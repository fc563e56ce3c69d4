/**
 * The settings of a Kubernetes deployment of Keyward, in the shape of the Helm chart's
 * `values.yaml` (which is written from {@link defaultSettings}): one set of names for the CLI's
 * flags, the chart's values and the builders.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";

/** Label equality requirements (`key: value`), as a NetworkPolicy peer selects namespaces or pods. */
export type Labels = Readonly<Record<string, string>>;

/** Everything a deployment can be told. */
export interface Settings {
  readonly namespace: string;
  readonly image: string;
  readonly service: {
    readonly enabled: boolean;
    readonly replicas: number;
  };
  readonly hardware: {
    /** SGX hardware mode: Intel SGX device plugin resources, SGX nodes, no `--simulation`. */
    readonly enabled: boolean;
    /** Enclave page cache per pod (`sgx.intel.com/epc`). */
    readonly epc: string;
    readonly nodeSelector: Labels;
    /** PCS or PCCS URL for collateral ("" for Intel's PCS). */
    readonly pccsUrl: string;
  };
  readonly postgres: {
    /** A PostgreSQL URL without a password: the chart then writes it into `existingSecret`. */
    readonly url: string;
    /** The Secret holding the URL under the key `url` (mounted as a file). */
    readonly existingSecret: string;
  };
  readonly secrets: {
    /** Secret with the 32-byte master key under `master.key`. */
    readonly masterKey: string;
    /** `kubernetes.io/tls` Secret with `tls.crt`, `tls.key` and `ca.crt` for the Admin listener. */
    readonly adminTls: string;
    /** Secret with the simulated platform's files (simulation only). */
    readonly simulation: string;
  };
  readonly networkPolicy: {
    /** Only pods with `podLabels` in namespaces with `namespaceLabels` reach the Admin listener. */
    readonly admin: { readonly namespaceLabels: Labels; readonly podLabels: Labels };
    /** Namespaces whose pods may scrape `/metrics` on the ops listener. */
    readonly metrics: { readonly namespaceLabels: Labels };
  };
  /** Probe startup through gRPC health checking (`--grpc-health-listen`, h2c) instead of `/healthz`. */
  readonly grpcProbe: boolean;
  /**
   * A ConfigMap holding `keyward.yaml`, the service's configuration file (paths only, never a
   * secret), mounted read-only and passed as `--config` ("" for none). The manifests' flags win
   * over it.
   */
  readonly configMap: string;
  readonly licensing: {
    readonly enabled: boolean;
    readonly replicas: number;
    readonly image: string;
    /**
     * TPM access: `device` requests the node's /dev/tpmrm0 from a device plugin (no privilege);
     * `hostpath` mounts it from the host, which needs a privileged container; `swtpm` runs a
     * software TPM beside the server (development and tests only: its keys die with the pod).
     */
    readonly tpm: "device" | "hostpath" | "swtpm";
    /** The extended resource a TPM device plugin advertises (with `tpm: device`). */
    readonly tpmResource: string;
    readonly swtpmImage: string;
    /** Secret with the licensing server's TLS material and signing keys. */
    readonly secret: string;
  };
}

/** The defaults (the chart's `values.yaml`), for a CLI of version `version`. */
export function defaultSettings(version: string): Settings {
  return {
    namespace: "keyward",
    // deploy/build_image.sh tags localhost/keyward/TARGET:VERSION; a cluster pulls from where they are pushed.
    image: `localhost/keyward/keyward:${version}`,
    service: { enabled: true, replicas: 2 },
    hardware: {
      enabled: false,
      epc: "128Mi",
      nodeSelector: { "intel.feature.node.kubernetes.io/sgx": "true" },
      pccsUrl: "",
    },
    postgres: { url: "", existingSecret: "keyward-postgres" },
    secrets: { masterKey: "keyward-master-key", adminTls: "keyward-admin-tls", simulation: "keyward-sim" },
    networkPolicy: {
      admin: {
        namespaceLabels: { "keyward.dev/admin-access": "true" },
        podLabels: { "keyward.dev/admin-access": "true" },
      },
      metrics: { namespaceLabels: { "kubernetes.io/metadata.name": "monitoring" } },
    },
    grpcProbe: false,
    configMap: "",
    licensing: {
      enabled: false,
      replicas: 1,
      image: `localhost/keyward/licensing:${version}`,
      tpm: "device",
      tpmResource: "squat.ai/tpmrm0",
      swtpmImage: `localhost/keyward/swtpm:${version}`,
      secret: "keyward-licensing",
    },
  };
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^(\d+(\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/;
const IMAGE = /^[a-z0-9]([a-z0-9._\-/:]*)(@sha256:[0-9a-f]{64})?$/i;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/**
 * Checks settings before anything is printed.
 * @throws KeywardError ERR_USAGE naming the flag
 */
export function checkSettings(s: Settings): void {
  const bad = (flag: string, why: string): never => {
    throw new KeywardError("ERR_USAGE", `--${flag}: ${why}`);
  };
  if (!DNS1123_LABEL.test(s.namespace) || s.namespace.length > 63)
    bad("namespace", "must be a DNS-1123 label");
  for (const [flag, image] of [
    ["image", s.image],
    ["licensing-image", s.licensing.image],
    ["swtpm-image", s.licensing.swtpmImage],
  ] as const)
    if (image.length > 512 || !IMAGE.test(image)) bad(flag, `"${image}" is not an image reference`);
  for (const [flag, n] of [
    ["replicas", s.service.replicas],
    ["replicas", s.licensing.replicas],
  ] as const)
    if (!Number.isInteger(n) || n < 1 || n > 100) bad(flag, "must be a whole number from 1 to 100");
  if (!["device", "hostpath", "swtpm"].includes(s.licensing.tpm))
    bad("tpm", "must be device, hostpath or swtpm");
  if (!s.licensing.tpmResource.includes("/") || !LABEL_KEY.test(s.licensing.tpmResource))
    bad("tpm-resource", "must be a fully qualified extended resource name (e.g. squat.ai/tpmrm0)");
  if (!QUANTITY.test(s.hardware.epc)) bad("epc", `"${s.hardware.epc}" is not a quantity (e.g. 128Mi)`);
  if (s.hardware.pccsUrl !== "" && !/^https:\/\/[^\s]+$/.test(s.hardware.pccsUrl))
    bad("pccs-url", "must be an https:// URL");
  for (const [flag, name] of [
    ["postgres-secret", s.postgres.existingSecret],
    ["master-key-secret", s.secrets.masterKey],
    ["admin-tls-secret", s.secrets.adminTls],
    ["simulation-secret", s.secrets.simulation],
    ["licensing-secret", s.licensing.secret],
  ] as const)
    if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253)
      bad(flag, "must be a Secret name (DNS-1123 subdomain)");
  if (s.configMap !== "" && (!DNS1123_SUBDOMAIN.test(s.configMap) || s.configMap.length > 253))
    bad("config-map", "must be a ConfigMap name (DNS-1123 subdomain)");
  if (s.postgres.url !== "") checkPostgresUrl(s.postgres.url);
  for (const [flag, labels] of [
    ["admin-from-namespace", s.networkPolicy.admin.namespaceLabels],
    ["admin-from-pod", s.networkPolicy.admin.podLabels],
    ["metrics-from-namespace", s.networkPolicy.metrics.namespaceLabels],
  ] as const) {
    if (Object.keys(labels).length === 0)
      bad(flag, "needs at least one LABEL=VALUE (an empty selector would let everyone in)");
    for (const [k, v] of Object.entries(labels))
      if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v)) bad(flag, `"${k}=${v}" is not LABEL=VALUE`);
  }
}

// A password on the command line stays in shell history and process listings, and the URL would be
// printed into a Secret manifest on stdout: refuse it, and say how to pass it instead.
function checkPostgresUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new KeywardError("ERR_USAGE", "--postgres: not a URL");
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:")
    throw new KeywardError("ERR_USAGE", "--postgres: must be a postgres:// URL");
  if (u.password !== "" || u.searchParams.has("password"))
    throw new KeywardError(
      "ERR_USAGE",
      "--postgres: the URL holds a password; put the URL in a Secret (kubectl create secret generic keyward-postgres --from-file=url=FILE) and pass --postgres-secret NAME instead",
    );
}

/** `LABEL=VALUE[,LABEL=VALUE...]` as labels. @throws KeywardError ERR_USAGE */
export function parseLabels(flag: string, text: string): Labels {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    const [k, v, extra] = part.split("=");
    if (k === undefined || v === undefined || extra !== undefined || k === "")
      throw new KeywardError("ERR_USAGE", `--${flag}: "${part}" is not LABEL=VALUE`);
    out[k.trim()] = v.trim();
  }
  return out;
}
