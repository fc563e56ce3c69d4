/**
 * The licensing server's options (`keyward serve` flags, KEYWARD_* variables; `keyward licensing
 * serve` maps its own flags onto them): where it listens and with which certificate, its TPM, which
 * launcher runs the enclaves, token lifetimes, login throttling and the trial licence given at
 * sign-up.
 *
 * @module
 */
import { defineOption, parsers } from "../../ops/options.ts";

const count = (min: number, max: number) => (text: string) => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new Error(`must be a whole number from ${min} to ${max}`);
  return n;
};

/** The licensing listener (TLS; off when unset). */
export const LICENSING_LISTEN = defineOption<{ readonly host: string; readonly port: number } | undefined>({
  key: "licensingListen",
  flag: "licensing-listen",
  env: "KEYWARD_LICENSING_LISTEN",
  kind: "string",
  doc: "the licensing server's listener (gRPC keyward.v1.Licensing over TLS, JWKS at /.well-known/jwks.json)",
  defaultDoc: "(none: the licensing server is off)",
  parse: parsers.hostPort,
  fallback: () => undefined,
});

/** A directory with tls.crt and tls.key (a Kubernetes TLS Secret mounted as files). */
export const LICENSING_SECRETS_DIR = defineOption<string | undefined>({
  key: "licensingSecretsDir",
  flag: "licensing-secrets-dir",
  env: "KEYWARD_LICENSING_SECRETS_DIR",
  kind: "string",
  doc: "directory with the licensing listener's tls.crt (PEM chain) and tls.key",
  defaultDoc: "a self-signed certificate made once in DATA-DIR/licensing/",
  parse: parsers.text,
  fallback: () => undefined,
});

/** The TPM that quotes the bindings. */
export const LICENSING_TPM = defineOption<string | undefined>({
  key: "licensingTpm",
  flag: "licensing-tpm",
  env: "KEYWARD_LICENSING_TPM",
  kind: "string",
  doc: "the TPM that binds enclave certificates: tcp://HOST:PORT or swtpm:HOST:PORT (swtpm), unix:PATH, device:/dev/tpmrm0",
  defaultDoc: "(none: GetEnclaveBinding is refused)",
  parse(text) {
    const swtpm = /^swtpm:(.+:\d{1,5})$/.exec(text);
    if (swtpm !== null) return `tcp://${swtpm[1]}`;
    if (!/^(tcp:\/\/.+:\d{1,5}|unix:.+|device:.+)$/.test(text))
      throw new Error(`must be tcp://HOST:PORT, swtpm:HOST:PORT, unix:PATH or device:PATH, got "${text}"`);
    return text;
  },
  fallback: () => undefined,
});

/** PEM file with the issuers of the TPM's EK certificate (sent with it in every binding). */
export const LICENSING_EK_CHAIN = defineOption<string | undefined>({
  key: "licensingEkChain",
  flag: "licensing-ek-chain",
  env: "KEYWARD_LICENSING_EK_CHAIN",
  kind: "string",
  doc: "PEM file with the EK certificate's issuing CAs, sent with the EK certificate",
  defaultDoc: "(the EK certificate alone)",
  parse: parsers.text,
  fallback: () => undefined,
});

/** Which launcher runs the enclaves. */
export const LICENSING_LAUNCHER = defineOption<"local" | "kubernetes">({
  key: "licensingLauncher",
  flag: "licensing-launcher",
  env: "KEYWARD_LICENSING_LAUNCHER",
  kind: "string",
  doc: "where enclaves run: local (the simulated enclave launcher, examples/licensed-app) or kubernetes (a Pod per enclave)",
  defaultDoc: "local",
  parse: parsers.oneOf(["local", "kubernetes"] as const),
  fallback: () => "local" as const,
});

/** The enclave app's manifest (local launcher). */
export const LICENSING_ENCLAVE_MANIFEST = defineOption<string | undefined>({
  key: "licensingEnclaveManifest",
  flag: "licensing-enclave-manifest",
  env: "KEYWARD_LICENSING_ENCLAVE_MANIFEST",
  kind: "string",
  doc: "the licensed enclave app's manifest for the local launcher",
  defaultDoc: "examples/licensed-app/app.toml",
  parse: parsers.text,
  fallback: () => undefined,
});

/** The enclave's container image (Kubernetes launcher). */
export const LICENSING_ENCLAVE_IMAGE = defineOption<string | undefined>({
  key: "licensingEnclaveImage",
  flag: "licensing-enclave-image",
  env: "KEYWARD_LICENSING_ENCLAVE_IMAGE",
  kind: "string",
  doc: "the licensed enclave app's image for the Kubernetes launcher",
  defaultDoc: "localhost/keyward/licensed-app:VERSION",
  parse: parsers.text,
  fallback: () => undefined,
});

/** The licensed enclave's MRENCLAVE (hex) that RegisterEnclave accepts. */
export const LICENSING_ENCLAVE_MRENCLAVE = defineOption<string | undefined>({
  key: "licensingEnclaveMrenclave",
  flag: "licensing-enclave-mrenclave",
  env: "KEYWARD_LICENSING_ENCLAVE_MRENCLAVE",
  kind: "string",
  doc: "MRENCLAVE (64 hex) of the licensed enclave app that may register certificates",
  defaultDoc: "the local launcher's measurement of its manifest",
  parse(text) {
    if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error("must be 64 hex digits");
    return text.toLowerCase();
  },
  fallback: () => undefined,
});

/** Kubernetes launcher: namespace, installation id, owning Deployment. */
export const LICENSING_KUBERNETES_NAMESPACE = defineOption<string | undefined>({
  key: "licensingKubernetesNamespace",
  flag: "licensing-kubernetes-namespace",
  env: "KEYWARD_LICENSING_KUBERNETES_NAMESPACE",
  kind: "string",
  doc: "namespace the Kubernetes launcher creates enclave pods in",
  defaultDoc: "(none)",
  parse: parsers.text,
  fallback: () => undefined,
});

/** Cluster access for the Kubernetes launcher. */
export const LICENSING_KUBECONFIG = defineOption<string | undefined>({
  key: "licensingKubeconfig",
  flag: "licensing-kubeconfig",
  env: "KEYWARD_LICENSING_KUBECONFIG",
  kind: "string",
  doc: "kubeconfig file of the Kubernetes launcher",
  defaultDoc: "the pod's service account inside a cluster, else $KUBECONFIG or ~/.kube/config",
  parse: parsers.text,
  fallback: () => undefined,
});

export const LICENSING_LAUNCHER_ID = defineOption({
  key: "licensingLauncherId",
  flag: "licensing-launcher-id",
  env: "KEYWARD_LICENSING_LAUNCHER_ID",
  kind: "string",
  doc: "this installation's launcher id (pods of other installations are never touched)",
  defaultDoc: "keyward",
  parse: parsers.text,
  fallback: () => "keyward",
});

export const LICENSING_OWNER_DEPLOYMENT = defineOption<string | undefined>({
  key: "licensingOwnerDeployment",
  flag: "licensing-owner-deployment",
  env: "KEYWARD_LICENSING_OWNER_DEPLOYMENT",
  kind: "string",
  doc: "the Deployment that owns the enclave pods (garbage-collected with it)",
  defaultDoc: "(none)",
  parse: parsers.text,
  fallback: () => undefined,
});

/** Where enclaves reach the licensing listener. */
export const LICENSING_ADVERTISE = defineOption<{ readonly host: string; readonly port: number } | undefined>(
  {
    key: "licensingAdvertise",
    flag: "licensing-advertise",
    env: "KEYWARD_LICENSING_ADVERTISE",
    kind: "string",
    doc: "HOST:PORT at which enclaves reach the licensing listener (RegisterEnclave)",
    defaultDoc:
      "local: the listener's own address (0.0.0.0 → 127.0.0.1); kubernetes: keyward-licensing.NAMESPACE.svc:PORT",
    parse: parsers.hostPort,
    fallback: () => undefined,
  },
);

/** Access token lifetime. */
export const LICENSING_ACCESS_TTL = defineOption({
  key: "licensingAccessTtl",
  flag: "licensing-access-ttl",
  env: "KEYWARD_LICENSING_ACCESS_TTL",
  kind: "string",
  doc: "access token lifetime in seconds (60 to 900)",
  defaultDoc: "600",
  parse: count(60, 900),
  fallback: () => 600,
});

/** Refresh token lifetime. */
export const LICENSING_REFRESH_TTL = defineOption({
  key: "licensingRefreshTtl",
  flag: "licensing-refresh-ttl",
  env: "KEYWARD_LICENSING_REFRESH_TTL",
  kind: "string",
  doc: "refresh token family lifetime in seconds",
  defaultDoc: "86400",
  parse: count(300, 30 * 86400),
  fallback: () => 86400,
});

/** Consecutive failed logins per user name before a temporary lockout. */
export const LICENSING_MAX_FAILURES = defineOption({
  key: "licensingMaxFailures",
  flag: "licensing-max-failures",
  env: "KEYWARD_LICENSING_MAX_FAILURES",
  kind: "string",
  doc: "consecutive failed logins per user name before it is locked for a while (doubling, at most 15 min)",
  defaultDoc: "5",
  parse: count(1, 99),
  fallback: () => 5,
});

/** Consecutive failed logins per client address before a temporary lockout. */
export const LICENSING_CLIENT_MAX_FAILURES = defineOption({
  key: "licensingClientMaxFailures",
  flag: "licensing-client-max-failures",
  env: "KEYWARD_LICENSING_CLIENT_MAX_FAILURES",
  kind: "string",
  doc: "consecutive failed logins per client address before it is locked for a while",
  defaultDoc: "20",
  parse: count(1, 1000),
  fallback: () => 20,
});

/** A licence given at sign-up: PRODUCT:SECONDS:MAX_ENCLAVES[:ENTITLEMENT+…]. */
export const LICENSING_TRIAL = defineOption<
  | {
      readonly product: string;
      readonly seconds: number;
      readonly maxEnclaves: number;
      readonly entitlements: readonly string[];
    }
  | undefined
>({
  key: "licensingTrial",
  flag: "licensing-trial",
  env: "KEYWARD_LICENSING_TRIAL",
  kind: "string",
  doc: "a trial licence every new user gets: PRODUCT:SECONDS:MAX_ENCLAVES[:ENTITLEMENT+ENTITLEMENT…]",
  defaultDoc: "(none: licences are issued by an administrator)",
  parse(text) {
    const m =
      /^([A-Za-z0-9_.-]{1,64}):(\d{1,9}):(\d{1,3})(?::([A-Za-z0-9_.-]{1,64}(?:\+[A-Za-z0-9_.-]{1,64})*))?$/.exec(
        text,
      );
    if (m === null) throw new Error(`must be PRODUCT:SECONDS:MAX_ENCLAVES[:ENTITLEMENT+…], got "${text}"`);
    return {
      product: m[1] as string,
      seconds: Number(m[2]),
      maxEnclaves: Number(m[3]),
      entitlements: m[4] === undefined ? [] : m[4].split("+"),
    };
  },
  fallback: () => undefined,
});

/** Every licensing option. */
export const LICENSING_OPTIONS = [
  LICENSING_LISTEN,
  LICENSING_SECRETS_DIR,
  LICENSING_TPM,
  LICENSING_EK_CHAIN,
  LICENSING_LAUNCHER,
  LICENSING_ENCLAVE_MANIFEST,
  LICENSING_ENCLAVE_IMAGE,
  LICENSING_ENCLAVE_MRENCLAVE,
  LICENSING_KUBERNETES_NAMESPACE,
  LICENSING_KUBECONFIG,
  LICENSING_LAUNCHER_ID,
  LICENSING_OWNER_DEPLOYMENT,
  LICENSING_ADVERTISE,
  LICENSING_ACCESS_TTL,
  LICENSING_REFRESH_TTL,
  LICENSING_MAX_FAILURES,
  LICENSING_CLIENT_MAX_FAILURES,
  LICENSING_TRIAL,
] as const;
