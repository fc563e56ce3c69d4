/**
 * The licensing commands: `keyward licensing serve` (the licensing server, as the Kubernetes
 * manifests run it) and the client, `keyward license signup|login|launch|connect` (docs/licensing.md).
 */
import type { CommandSpec, OptionSpec } from "./types.ts";

/** Where the licensing server is and how the client keeps its session. */
const CLIENT = {
  server: {
    type: "string",
    value: "HOST:PORT",
    help: "the licensing server (default: $KEYWARD_LICENSE_SERVER)",
  },
  ca: {
    type: "string",
    value: "FILE",
    file: "certificate",
    help: "PEM CA (or the server's own certificate) the licensing server's certificate chains to",
  },
  session: {
    type: "string",
    value: "FILE",
    path: "file",
    help: "where login keeps its tokens (0600; default: $KEYWARD_LICENSE_SESSION or ~/.keyward/license-session.json)",
  },
} as const satisfies Record<string, OptionSpec>;

const PASSWORD = {
  "password-file": {
    type: "string",
    value: "FILE",
    file: "document",
    help: "read the password from this file's first line (else $KEYWARD_LICENSE_PASSWORD, else a no-echo prompt)",
  },
} as const satisfies Record<string, OptionSpec>;

/** `keyward licensing serve`. */
export const licensingServe = {
  name: "licensing serve",
  summary:
    "run the licensing server: accounts, licences, enclaves per user, certificates bound into TPM quotes",
  synopsis:
    "--listen HOST:PORT [--tpm URI] [--data-dir DIR] [--secrets-dir DIR] [--ops-listen HOST:PORT] [--kubernetes-namespace NS --launcher-id ID --owner-deployment NAME] [--simulation] [--trial P:S:M]",
  description:
    "The keyward service with the licensing feature on --listen (TLS; docs/licensing.md). Enclaves run through the local simulated launcher, or as pods with --kubernetes-namespace. Runs until SIGINT/SIGTERM, logging JSON lines.",
  options: {
    listen: { type: "string", value: "HOST:PORT", help: "the licensing listener" },
    "ops-listen": { type: "string", value: "HOST:PORT", help: "/healthz, /readyz, /metrics" },
    "data-dir": { type: "string", value: "DIR", path: "dir", help: "the service's data directory" },
    "secrets-dir": {
      type: "string",
      value: "DIR",
      path: "dir",
      readBy: "server",
      help: "directory with the listener's tls.crt and tls.key",
    },
    tpm: {
      type: "string",
      value: "URI",
      help: "the binding TPM: device:/dev/tpmrm0, swtpm:HOST:PORT, tcp://, unix:",
    },
    "ek-chain": {
      type: "string",
      value: "FILE",
      readBy: "server",
      help: "PEM issuers of the EK certificate",
    },
    "kubernetes-namespace": { type: "string", value: "NS", help: "run enclaves as pods in this namespace" },
    "launcher-id": { type: "string", value: "ID", help: "this installation's launcher id" },
    "owner-deployment": { type: "string", value: "NAME", help: "the Deployment owning the enclave pods" },
    "enclave-image": { type: "string", value: "IMAGE", help: "the licensed app's image (Kubernetes)" },
    "enclave-mrenclave": { type: "string", value: "HEX", help: "the licensed app's MRENCLAVE" },
    "database-url": {
      type: "string",
      value: "URL",
      help: "PostgreSQL store (default: SQLite in the data directory)",
    },
    simulation: { type: "boolean", help: "simulation mode (the simulated platform's root)" },
    trial: { type: "string", value: "PRODUCT:SECONDS:MAX[:E+E]", help: "a licence every new user gets" },
    "log-level": { type: "string", value: "LEVEL", help: "fatal, error, warn, info, debug, trace, silent" },
  },
  json: false,
  examples: ["--listen 0.0.0.0:8443 --tpm swtpm:127.0.0.1:2321 --simulation --trial licensed-app:86400:1"],
} as const satisfies CommandSpec;

/** `keyward license signup`. */
export const licenseSignup = {
  name: "license signup",
  summary: "create an account on a licensing server",
  synopsis: "--user NAME --server HOST:PORT --ca FILE [--password-file FILE] [--json]",
  options: { user: { type: "string", value: "NAME", help: "the user name" }, ...CLIENT, ...PASSWORD },
  json: true,
  examples: ["--user alice --server 127.0.0.1:8443 --ca licensing.crt"],
} as const satisfies CommandSpec;

/** `keyward license login`. */
export const licenseLogin = {
  name: "license login",
  summary: "log in to a licensing server and keep the session's tokens",
  synopsis:
    "--user NAME --server HOST:PORT --ca FILE [--otp ACCOUNT:CODE] [--password-file FILE] [--session FILE] [--json]",
  options: {
    user: { type: "string", value: "NAME", help: "the user name" },
    otp: { type: "string", value: "ACCOUNT:CODE", help: "a one-time code, when the user's logins need one" },
    ...CLIENT,
    ...PASSWORD,
  },
  json: true,
  examples: ["--user alice --server 127.0.0.1:8443 --ca licensing.crt"],
} as const satisfies CommandSpec;

/** `keyward license launch`. */
export const licenseLaunch = {
  name: "license launch",
  summary: "launch an enclave under one of your licences (the first active one unless --licence)",
  synopsis: "[--licence ID] [--server HOST:PORT] [--ca FILE] [--session FILE] [--json]",
  options: { licence: { type: "string", value: "ID", help: "the licence id" }, ...CLIENT },
  json: true,
  examples: ["", "--licence 0f1e2d3c4b5a69788796a5b4c3d2e1f0 --json"],
} as const satisfies CommandSpec;

/** `keyward license connect`. */
export const licenseConnect = {
  name: "license connect",
  summary: "verify an enclave's TPM binding for a fresh nonce and connect pinned to its certificate",
  synopsis:
    "ENCLAVE-ID (--ak-name HEX... | --ek-roots FILE) [--get PATH] [--server HOST:PORT] [--ca FILE] [--session FILE] [--json]",
  description:
    "Trusts the server's AK by its pinned Name or through the EK certificate and credential activation, verifies the quote (every check of the TPM verifier, extraData = SHA-256(nonce ‖ certificate hash), PCR 23), connects with TLS pinned to exactly the bound certificate and compares it once more. Exit 1, before any application byte is sent, on any mismatch. With --get, sends GET PATH to the enclave and prints its answer.",
  positionals: [{ name: "ENCLAVE-ID", help: "the enclave (from license launch)" }],
  options: {
    "ak-name": { type: "string", multiple: true, value: "HEX", help: "a pinned AK Name (TPM2B Name, hex)" },
    "ek-roots": {
      type: "string",
      value: "FILE",
      file: "certificate",
      help: "PEM TPM manufacturer roots the EK certificate must chain to",
    },
    get: { type: "string", value: "PATH", help: "an HTTP GET to send over the verified connection" },
    ...CLIENT,
  },
  json: true,
  examples: ["0f1e2d3c4b5a69788796a5b4c3d2e1f0 --ek-roots tpm-ca.pem --get /hello"],
} as const satisfies CommandSpec;
