/** The `keyward sim …` commands: the simulated platform. */
import { DATA_DIR } from "./common.ts";
import type { CommandSpec } from "./types.ts";

const VALIDITY = {
  type: "string",
  value: "N",
  help: "collateral lifetime in days, 1 to 3650 (default: 30, or the platform's)",
} as const;

/** `keyward sim init`. */
export const simInit = {
  name: "sim init",
  summary: "create the simulated TEE platform (CA, PCK, QE, collateral) under the data directory",
  synopsis: "[--data-dir DIR] [--force] [--validity-days N] [--json]",
  description:
    "A development platform that produces byte-exact DCAP quotes under its own root. Verifiers accept " +
    "it only when told to (--trust-sim); the default policy refuses it.",
  options: {
    ...DATA_DIR,
    force: { type: "boolean", help: "replace an existing platform (its sealed data becomes unreadable)" },
    "validity-days": VALIDITY,
  },
  json: true,
  examples: ["", "--validity-days 90 --json"],
} as const satisfies CommandSpec;

/** `keyward sim refresh`. */
export const simRefresh = {
  name: "sim refresh",
  summary: "re-sign the simulated platform's collateral and CRLs with fresh dates",
  synopsis: "[--data-dir DIR] [--validity-days N] [--json]",
  options: { ...DATA_DIR, "validity-days": VALIDITY },
  json: true,
  examples: [""],
} as const satisfies CommandSpec;

/** `keyward sim quote`. */
export const simQuote = {
  name: "sim quote",
  summary: "write a quote from the simulated platform (for demos and tests)",
  synopsis:
    "--tee sgx|tdx --report-data HEX --out FILE [--mrenclave HEX] [--mrsigner HEX] [--mrtd HEX] [--debug] [--collateral-out FILE] [--json]",
  options: {
    tee: { type: "string", value: "sgx|tdx", choices: ["sgx", "tdx"], help: "the TEE to quote" },
    "report-data": { type: "string", value: "HEX", help: "report data, at most 64 bytes (zero-padded)" },
    mrenclave: { type: "string", value: "HEX", help: "SGX: MRENCLAVE, 32 bytes (default: zeros)" },
    mrsigner: { type: "string", value: "HEX", help: "SGX: MRSIGNER, 32 bytes (default: zeros)" },
    "isv-prod-id": { type: "string", value: "N", help: "SGX: ISV product ID, 0..65535" },
    "isv-svn": { type: "string", value: "N", help: "SGX: ISV SVN, 0..65535" },
    mrtd: { type: "string", value: "HEX", help: "TDX: MRTD, 48 bytes (default: zeros)" },
    debug: { type: "boolean", help: "a debug enclave or TD" },
    version: { type: "string", value: "4|5", choices: ["4", "5"], help: "TDX quote version (default: 4)" },
    out: { type: "string", value: "FILE", path: "file", help: "where to write the quote" },
    "collateral-out": { type: "string", value: "FILE", path: "file", help: "also write its collateral here" },
    ...DATA_DIR,
  },
  json: true,
  examples: ["--tee sgx --report-data 00ff --out quote.bin --collateral-out collateral.json"],
} as const satisfies CommandSpec;
