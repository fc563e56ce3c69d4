/** Commands outside a group: demo, explain, serve, completion, help. */
import { CONFIG, STORE } from "./common.ts";
import type { CommandSpec } from "./types.ts";

/** `keyward demo`. */
export const demo = {
  name: "demo",
  summary: "verify the bundled real SGX/TDX quotes and a freshly simulated one, and print the verdicts",
  synopsis: "[signing|licensing] [--json]",
  description:
    "What npm start runs: real and simulated quotes, then the service with the example app's @keyward/client " +
    "(mutual RA-TLS and the challenge path) and a Confidential Containers guest over the KBS protocol. " +
    "Exit 0 only when every verdict is the expected one. `keyward demo signing` runs the " +
    "attested-signing scenario instead: keygen in the IoT gateway enclave, bundle upload, readings signed and " +
    "verified in the cloud, and the key-swap and corruption attacks refused. `keyward demo licensing` runs the licensing " +
    "server with the local launcher and swtpm: sign-up, login, launch, the enclave's certificate bound into a TPM quote, " +
    "a verified pinned connection, and a replayed binding and an impostor certificate refused. `keyward demo otp` " +
    "(its own command: keyward help demo otp) runs the one-time-password flow.",
  positionals: [
    {
      name: "SCENARIO",
      help: "signing: attested signing keys and the device registry; licensing: the licensing server",
      optional: true,
      choices: ["signing", "licensing"],
    },
  ],
  options: {},
  json: true,
  examples: ["", "signing", "licensing"],
} as const satisfies CommandSpec;

/** `keyward explain`. */
export const explain = {
  name: "explain",
  summary: "describe an error code (or list them all)",
  synopsis: "[ERR_CODE] [--json]",
  positionals: [
    { name: "ERR_CODE", help: "an error code, e.g. ERR_DCAP_QUOTE_SIGNATURE_INVALID", optional: true },
  ],
  options: {},
  json: true,
  examples: ["ERR_IO", ""],
} as const satisfies CommandSpec;

/** `keyward serve`. */
export const serve = {
  name: "serve",
  summary: "run the secret-provisioning service (mutual RA-TLS gRPC) until stopped",
  synopsis: "[--config FILE] [--simulation] [--listen HOST:PORT] [--admin-listen HOST:PORT] [...]",
  description:
    "Runs until SIGINT or SIGTERM, logging JSON lines on stdout. Without --simulation it runs in hardware " +
    "mode (Intel's root; its own evidence and sealed master key from its attester). Each flag has a " +
    "KEYWARD_* environment equivalent and a key in the --config file (the flag in camelCase); flags win " +
    "over the environment, which wins over the file (docs/operations.md). Every configuration problem is " +
    "listed at once; a bad address or a port in use exits 2. Start-up failures are JSON lines on stderr.",
  options: {
    ...CONFIG,
    ...STORE,
    listen: {
      type: "string",
      value: "HOST:PORT",
      help: "the RA-TLS gRPC listener (default: 127.0.0.1:7443)",
    },
    "vault-addr": { type: "string", value: "URL", help: "Vault address for vault: grants" },
    "secret-file-dirs": {
      type: "string",
      value: "DIR[:DIR…]",
      help: "directories file: grants may read (default: none, file: grants refused)",
    },
    "secret-backend": {
      type: "string",
      value: "store|vault",
      choices: ["store", "vault"],
      help: "where references without a scheme are read (default: store)",
    },
    "ops-listen": { type: "string", value: "HOST:PORT", help: "health and metrics listener" },
    "gramine-secret-prov-listen": {
      type: "string",
      value: "HOST:PORT",
      help: "Gramine's secret-provisioning protocol, for unchanged Gramine apps",
    },
    "gramine-secret-prov-cert": {
      type: "string",
      value: "FILE",
      path: "file",
      help: "PEM certificate the Gramine listener presents (from the apps' CA)",
    },
    "gramine-secret-prov-key": {
      type: "string",
      value: "FILE",
      path: "file",
      help: "PEM key of --gramine-secret-prov-cert",
    },
    "grpc-health-listen": {
      type: "string",
      value: "HOST:PORT",
      help: "plaintext h2c gRPC health checking, for Kubernetes gRPC probes",
    },
    "admin-listen": {
      type: "string",
      value: "HOST:PORT",
      help: "the Admin listener (default: 127.0.0.1:7444)",
    },
    "challenge-listen": { type: "string", value: "HOST:PORT", help: "the challenge–response listener" },
    "kbs-listen": {
      type: "string",
      value: "HOST:PORT",
      help: "the KBS protocol listener (Confidential Containers guests; docs/kbs.md)",
    },
    "kbs-cert": { type: "string", value: "FILE", help: "PEM certificate chain of the KBS listener" },
    "kbs-key": { type: "string", value: "FILE", help: "PEM private key of --kbs-cert" },
    "kbs-insecure-http": { type: "boolean", help: "serve the KBS protocol over plain HTTP (development)" },
    "kbs-token-ttl": {
      type: "string",
      value: "SECONDS",
      help: "lifetime of KBS attestation tokens (30–3600, default 300)",
    },
    "licensing-listen": {
      type: "string",
      value: "HOST:PORT",
      help: "the licensing server's TLS listener (docs/licensing.md)",
    },
    "licensing-secrets-dir": {
      type: "string",
      value: "DIR",
      help: "directory with the licensing listener's tls.crt and tls.key",
    },
    "licensing-tpm": {
      type: "string",
      value: "URI",
      help: "the TPM binding enclave certificates (tcp://, swtpm:HOST:PORT, unix:, device:)",
    },
    "licensing-ek-chain": {
      type: "string",
      value: "FILE",
      help: "PEM issuers of the TPM's EK certificate, sent with it",
    },
    "licensing-launcher": {
      type: "string",
      value: "local|kubernetes",
      help: "where enclaves run (default local)",
    },
    "licensing-enclave-manifest": {
      type: "string",
      value: "FILE",
      help: "the licensed app's manifest for the local launcher",
    },
    "licensing-enclave-image": {
      type: "string",
      value: "IMAGE",
      help: "the licensed app's image for the Kubernetes launcher",
    },
    "licensing-enclave-mrenclave": {
      type: "string",
      value: "HEX",
      help: "MRENCLAVE of the licensed app that may register",
    },
    "licensing-kubernetes-namespace": { type: "string", value: "NS", help: "namespace of the enclave pods" },
    "licensing-launcher-id": {
      type: "string",
      value: "ID",
      help: "this installation's launcher id (default keyward)",
    },
    "licensing-owner-deployment": {
      type: "string",
      value: "NAME",
      help: "the Deployment owning the enclave pods",
    },
    "licensing-kubeconfig": {
      type: "string",
      value: "FILE",
      readBy: "server",
      help: "kubeconfig of the Kubernetes launcher (default: in-cluster, else $KUBECONFIG)",
    },
    "licensing-advertise": {
      type: "string",
      value: "HOST:PORT",
      help: "where enclaves reach the licensing listener (default: its own address, or the Service on Kubernetes)",
    },
    "licensing-access-ttl": {
      type: "string",
      value: "SECONDS",
      help: "access token lifetime (60–900, default 600)",
    },
    "licensing-refresh-ttl": {
      type: "string",
      value: "SECONDS",
      help: "refresh token family lifetime (default 86400)",
    },
    "licensing-max-failures": {
      type: "string",
      value: "N",
      help: "failed logins per user name before a lockout (default 5)",
    },
    "licensing-client-max-failures": {
      type: "string",
      value: "N",
      help: "failed logins per client address before a lockout (default 20)",
    },
    "licensing-trial": {
      type: "string",
      value: "PRODUCT:SECONDS:MAX[:ENT+ENT]",
      help: "a licence every new user gets",
    },
    attester: {
      type: "string",
      value: "auto|gramine|configfs-tsm",
      choices: ["auto", "gramine", "configfs-tsm"],
      help: "where the service gets its own evidence in hardware mode",
    },
    "log-level": {
      type: "string",
      value: "LEVEL",
      choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      help: "least severe log lines written (default: info, one line per request)",
    },
    "shutdown-grace": {
      type: "string",
      value: "SECONDS",
      help: "on SIGTERM, how long in-flight calls get to finish while new ones are refused UNAVAILABLE (default 10)",
    },
    "otp-admin-step-up": {
      type: "boolean",
      help: "admin changes need a one-time code (--otp ACCOUNT:CODE) from an account of the operator's role",
    },
    "otp-operator-roles": {
      type: "string",
      value: "OP=ROLE[+ROLE],...",
      help: "operators' roles for admin step-up (default: every operator holds admin)",
    },
    "otp-max-failures": {
      type: "string",
      value: "N",
      help: "consecutive failed codes per account before a lockout (default 5; locked for good at 100)",
    },
    "otp-client-max-failures": {
      type: "string",
      value: "N",
      help: "consecutive failed codes per client address before a lockout (default 20)",
    },
    "otp-lockout-seconds": {
      type: "string",
      value: "S",
      help: "first lockout in seconds, doubling per further failure up to 900 (default 30)",
    },
  },
  json: false,
  examples: [
    "--simulation --listen 127.0.0.1:7443 --ops-listen 127.0.0.1:9090",
    "--config /etc/keyward/keyward.yaml",
  ],
} as const satisfies CommandSpec;

/** `keyward completion`. */
export const completion = {
  name: "completion",
  summary: "print a shell completion script (bash or zsh)",
  synopsis: "bash|zsh",
  description:
    "Load it with  source <(keyward completion bash)  in ~/.bashrc, or  source <(keyward completion zsh)  in ~/.zshrc (after compinit).",
  positionals: [{ name: "SHELL", help: "bash or zsh", choices: ["bash", "zsh"] }],
  options: {},
  json: false,
  examples: ["bash", "zsh"],
} as const satisfies CommandSpec;

/** `keyward help`. */
export const help = {
  name: "help",
  summary: "show the commands, or one command's or group's help",
  synopsis: "[COMMAND...]",
  positionals: [{ name: "COMMAND", help: "a command or group, e.g. quote verify", optional: true }],
  options: {},
  json: false,
  examples: ["quote verify", "admin"],
} as const satisfies CommandSpec;
