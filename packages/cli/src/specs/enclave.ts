/** The `keyward enclave …` commands: the simulated launcher, measurements and SIGSTRUCTs. */
import { DATA_DIR } from "./common.ts";
import type { CommandSpec } from "./types.ts";

const MANIFEST = {
  type: "string",
  value: "FILE",
  file: "manifest",
  help: "the enclave manifest (TOML)",
} as const;
const QUOTE = {
  type: "string",
  value: "FILE",
  file: "evidence",
  help: "a DCAP quote of the enclave",
} as const;

/** `keyward enclave run`. */
export const enclaveRun = {
  name: "enclave run",
  summary: "measure and run an app in a simulated enclave (the launcher plays the CPU and the QE)",
  synopsis: "--manifest FILE [--data-dir DIR] [-- ARGS...]",
  description: "Exits with the app's own exit status. Arguments after -- go to the app.",
  options: { manifest: MANIFEST, ...DATA_DIR },
  json: false,
  passThrough: true,
  examples: ["--manifest examples/hello-enclave/app.toml -- identity"],
} as const satisfies CommandSpec;

/** `keyward enclave measure`. */
export const enclaveMeasure = {
  name: "enclave measure",
  summary: "print the simulated MRENCLAVE and MRSIGNER of a manifest without running it",
  synopsis: "--manifest FILE [--canonical] [--json]",
  options: {
    manifest: MANIFEST,
    canonical: { type: "boolean", help: "print the exact text MRENCLAVE hashes instead" },
  },
  json: true,
  examples: ["--manifest examples/hello-enclave/app.toml"],
} as const satisfies CommandSpec;

/** `keyward enclave verify-measurement`. */
export const enclaveVerifyMeasurement = {
  name: "enclave verify-measurement",
  summary: "rebuild the measurement from source and compare it with a quote's enclave",
  synopsis: "--manifest FILE --quote FILE [--json]",
  description: "Exit 0 when the quote's enclave was built from this source, 1 when a field differs.",
  options: { manifest: MANIFEST, quote: QUOTE },
  json: true,
  examples: ["--manifest examples/hello-enclave/app.toml --quote quote.bin"],
} as const satisfies CommandSpec;

/** `keyward enclave sigstruct`. */
export const enclaveSigstruct = {
  name: "enclave sigstruct",
  summary: "read and verify an SGX SIGSTRUCT (.sig); with --quote, compare it with a quote's enclave",
  synopsis: "FILE.sig [--quote FILE] [--json]",
  positionals: [{ name: "FILE.sig", help: "a SIGSTRUCT (1808 bytes)", file: "evidence" }],
  options: { quote: QUOTE },
  json: true,
  examples: ["app.sig", "app.sig --quote quote.bin --json"],
} as const satisfies CommandSpec;
