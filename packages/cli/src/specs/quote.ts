/** The `keyward quote …` commands. */
import { DCAP_TRUST } from "./common.ts";
import type { CommandSpec } from "./types.ts";

const QUOTE = {
  name: "QUOTE",
  help: "a DCAP quote (SGX v3, TDX v4 or v5), binary",
  file: "evidence",
} as const;
const POLICY = {
  type: "string",
  value: "FILE",
  file: "policy",
  help: "appraise the verified claims against this policy (JSON)",
} as const;
const COLLATERAL = {
  type: "string",
  value: "FILE",
  file: "collateral",
  help: "collateral JSON: TCB Info, QE Identity, CRLs and their issuer chains",
} as const;

/** `keyward quote inspect`. */
export const quoteInspect = {
  name: "quote inspect",
  summary: "decode a DCAP quote (header, body, QE report, PCK fields); verifies nothing",
  synopsis: "QUOTE [--json]",
  description:
    "Decodes every field of the quote and its PCK certificate. Nothing is verified: use quote verify.",
  positionals: [QUOTE],
  options: {},
  json: true,
  examples: ["quote.bin", "quote.bin --json"],
} as const satisfies CommandSpec;

/** `keyward quote verify`. */
export const quoteVerify = {
  name: "quote verify",
  summary: "verify a DCAP quote against its collateral (and a policy)",
  synopsis:
    "QUOTE (--collateral FILE | --pccs URL) [--at ISO-8601] [--trust-sim | --sim-root FILE] [--policy FILE] [--json]",
  description:
    "Checks the PCK chain to a pinned root, the CRLs, TCB Info and QE Identity, the QE report and the quote's " +
    "signature, then grades the platform's TCB level as Intel's QVL does. Without --policy the verdict is " +
    "reported, not appraised; with it, every rule is checked and any failure exits 1.",
  positionals: [QUOTE],
  options: {
    collateral: COLLATERAL,
    pccs: { type: "string", value: "URL", help: "fetch the collateral from this PCS or PCCS instead" },
    ...DCAP_TRUST,
    policy: POLICY,
  },
  json: true,
  examples: [
    "quote.bin --collateral collateral.json --at 2025-06-05T03:45:00Z",
    "quote.bin --pccs https://pccs.example:8081 --policy policy.yaml --json",
  ],
} as const satisfies CommandSpec;

/** `keyward quote report`. */
export const quoteReport = {
  name: "quote report",
  summary: "write a self-contained HTML attestation report of a quote (decoded, verified, appraised)",
  synopsis:
    "QUOTE --collateral FILE --html OUT.html [--policy FILE] [--at ISO-8601] [--trust-sim | --sim-root FILE] [--json]",
  description:
    "Verifies the quote as quote verify does and writes one HTML file with no external assets: the decoded " +
    "quote with its field names, the certificate chain, the TCB level matched and why, and each policy " +
    "rule with its expected and actual values. A rejected quote still gets its report (exit 1).",
  positionals: [QUOTE],
  options: {
    collateral: COLLATERAL,
    html: { type: "string", value: "OUT.html", path: "file", help: "where to write the report" },
    ...DCAP_TRUST,
    policy: POLICY,
  },
  json: true,
  examples: ["quote.bin --collateral collateral.json --at 2025-06-05T03:45:00Z --html report.html"],
} as const satisfies CommandSpec;
