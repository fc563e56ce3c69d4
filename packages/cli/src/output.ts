/**
 * Exit statuses and output: results on stdout, diagnostics on stderr, `--json` for machines.
 *
 * @module
 */
import { isKeywardError, KeywardError } from "@keyward/attest/errors";

/** The documented exit statuses of every command. */
export const EXIT = {
  /** Accepted / done. */
  ok: 0,
  /** Rejected by a check (the evidence, a signature, the policy). */
  rejected: 1,
  /** Usage error or unreadable input. */
  usage: 2,
  /** An internal failure (a bug). */
  internal: 70,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

// Codes that mean "you called me wrong or I could not read your input", not "your evidence failed".
// An invalid policy document is input the command cannot use (e.g. one that lists "Revoked").
const usageCodes = new Set<string>(["ERR_USAGE", "ERR_IO", "ERR_POLICY_INVALID"]);

/** The exit status for an error. */
export function exitCodeOf(e: unknown): ExitCode {
  if (!isKeywardError(e)) return EXIT.internal;
  if (e.code === "ERR_INTERNAL") return EXIT.internal;
  return usageCodes.has(e.code) ? EXIT.usage : EXIT.rejected;
}

/** Writes `value` as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** Writes `value` as one line of JSON (JSON Lines: listings print one record per line). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer)}\n`);
}

/** JSON.stringify replacer: bytes as lowercase hex, bigints as decimal strings, dates as ISO. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** The JSON error object every command prints on failure. */
export function errorJson(e: KeywardError, extra: Readonly<Record<string, unknown>> = {}): unknown {
  return { error: { code: e.code, message: e.message, ...extra } };
}

/** Reports a failure on stdout (JSON) or stderr (text) and returns its exit status. */
export function reportFailure(e: unknown, json: boolean): ExitCode {
  const code = exitCodeOf(e);
  if (e instanceof KeywardError) {
    if (json) printJson(errorJson(e));
    else process.stderr.write(`keyward: ${e.code}: ${e.message}\n`);
  } else {
    const message = e instanceof Error ? e.message : String(e);
    if (json) printJson({ error: { code: "ERR_INTERNAL", message } });
    process.stderr.write(`keyward: internal error: ${message}\n`);
  }
  return code;
}
