/** The `keyward ratls …` commands. */
import { DCAP_TRUST } from "./common.ts";
import type { CommandSpec } from "./types.ts";

const CERT = { name: "CERT", help: "an RA-TLS certificate, PEM or DER", file: "certificate" } as const;

/** `keyward ratls inspect`. */
export const ratlsInspect = {
  name: "ratls inspect",
  summary: "show the evidence an RA-TLS certificate carries and whether it binds the certificate's key",
  synopsis: "CERT [--json]",
  positionals: [CERT],
  options: {},
  json: true,
  examples: ["cert.pem"],
} as const satisfies CommandSpec;

/** `keyward ratls verify`. */
export const ratlsVerify = {
  name: "ratls verify",
  summary:
    "verify an RA-TLS certificate: binding, quote, and policy (debug enclaves refused unless --allow-debug)",
  synopsis:
    "CERT --collateral FILE [--at ISO-8601] [--policy FILE] [--allow-debug] [--trust-sim | --sim-root FILE] [--nonce HEX] [--json]",
  description:
    "Exit statuses as quote verify. Without --policy only what RA-TLS verifiers refuse by default is " +
    "refused (debug enclaves, and simulated evidence unless its root is trusted); the TCB status is reported.",
  positionals: [CERT],
  options: {
    collateral: {
      type: "string",
      value: "FILE",
      file: "collateral",
      help: "collateral JSON of the quote inside the certificate",
    },
    ...DCAP_TRUST,
    policy: { type: "string", value: "FILE", file: "policy", help: "appraise against this policy (JSON)" },
    "allow-debug": { type: "boolean", help: "accept a debug enclave" },
    nonce: { type: "string", value: "HEX", help: "the nonce the certificate's claims must carry" },
  },
  json: true,
  examples: ["cert.pem --collateral collateral.json --at 2025-06-05T03:45:00Z"],
} as const satisfies CommandSpec;
