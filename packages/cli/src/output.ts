/**
 * Exit statuses and output: results on stdout, errors and rejections on stderr; with `--json` the
 * result or the error object goes to stdout as JSON, and an error also gets one line on stderr.
 * Colour only on a terminal, and never with NO_COLOR.
 *
 * @module
 */
import { styleText } from "node:util";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { colorAllowed } from "./config.ts";

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
  const k = asKeywardError(e);
  if (k === undefined || k.code === "ERR_INTERNAL") return EXIT.internal;
  return usageCodes.has(k.code) ? EXIT.usage : EXIT.rejected;
}

/**
 * The KeywardError an error stands for: itself, or for a system error of Node (an errno code and a
 * syscall), ERR_IO — or ERR_USAGE for an address in use or not available, since the address came
 * from a flag. Anything else is a bug: undefined.
 */
export function asKeywardError(e: unknown): KeywardError | undefined {
  if (isKeywardError(e)) return e;
  const sys = e as (NodeJS.ErrnoException & { address?: string; port?: number }) | undefined;
  if (sys === undefined || sys === null || typeof sys.code !== "string" || typeof sys.syscall !== "string")
    return undefined;
  const where = sys.port === undefined ? (sys.address ?? "") : `${sys.address ?? ""}:${sys.port}`;
  if (sys.code === "EADDRINUSE")
    return new KeywardError("ERR_USAGE", `port ${sys.port ?? "?"} (${where}) is already in use`, {
      cause: e,
    });
  if (
    sys.code === "EADDRNOTAVAIL" ||
    ((sys.syscall === "listen" || sys.syscall === "bind") && sys.code === "EACCES")
  )
    return new KeywardError("ERR_USAGE", `cannot listen on ${where}: ${sys.code}`, { cause: e });
  const path = sys.path === undefined ? "" : `${sys.path}: `;
  return new KeywardError("ERR_IO", `${path}${sys.syscall} failed (${sys.code})`, {
    cause: e,
    detail: { reason: sys.code },
  });
}

/** Writes `value` as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** Writes `value` as one line of JSON (JSON Lines: listings print one record per line). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer)}\n`);
}

/**
 * JSON.stringify replacer: bytes as lowercase hex, bigints as decimal strings; protobuf's
 * `$typeName` (an implementation detail of the wire messages) never reaches the output.
 */
export function jsonReplacer(key: string, value: unknown): unknown {
  if (key.startsWith("$")) return undefined;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** The JSON error object every command prints on failure. */
export function errorJson(e: KeywardError, extra: Readonly<Record<string, unknown>> = {}): unknown {
  const usage =
    e.code === "ERR_USAGE" && typeof e.detail?.usage === "string" ? { usage: e.detail.usage } : {};
  // A lockout says when to try again (seconds), e.g. ERR_OTP_LOCKED.
  const retry = typeof e.detail?.retryAfter === "number" ? { retryAfter: e.detail.retryAfter } : {};
  return { error: { code: e.code, message: e.message, ...usage, ...retry, ...extra } };
}

/** Writes a result line on stdout. */
export function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a diagnostic line on stderr. */
export function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Reports a failure and returns its exit status: in JSON mode the error object on stdout and one
 * line on stderr; otherwise the error (and the usage line of a usage error) on stderr.
 */
export function reportFailure(e: unknown, json: boolean): ExitCode {
  const k = asKeywardError(e);
  const code = exitCodeOf(e);
  if (k === undefined) {
    const message = e instanceof Error ? e.message : String(e);
    if (json) printJson({ error: { code: "ERR_INTERNAL", message } });
    warn(`keyward: internal error: ${oneLine(message)}`);
    return code;
  }
  if (json) {
    printJson(errorJson(k));
    warn(`keyward: ${k.code}: ${oneLine(k.message)}`);
    return code;
  }
  warn(`${paint(process.stderr, "red", `keyward: ${k.code}`)}: ${k.message}`);
  if (k.code === "ERR_USAGE" && typeof k.detail?.usage === "string") {
    warn(`usage: ${k.detail.usage}`);
    if (typeof k.detail.command === "string") warn(`(keyward help ${k.detail.command} lists every option)`);
  }
  return code;
}

/**
 * A rejection: its one line on stderr and, in JSON mode, on stdout the result so far (`result`, its
 * fields at the top level) with the error object beside them.
 */
export function reportRejection(e: KeywardError, json: boolean, result: object = {}): ExitCode {
  if (json) printJson({ ...result, ...(errorJson(e) as object) });
  warn(`${paint(process.stderr, "red", "keyward: rejected")}: ${e.code}: ${oneLine(e.message)}`);
  return EXIT.rejected;
}

/** Text styles the CLI uses. */
export type Style = "red" | "green" | "yellow" | "bold" | "dim";

/** `text` in `style` when `stream` is a terminal and colour is allowed, else `text` unchanged. */
export function paint(stream: NodeJS.WriteStream, style: Style, text: string): string {
  return stream.isTTY === true && colorAllowed() ? styleText(style, text, { validateStream: false }) : text;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

/** Colour for a verdict's kind on `stream` (see {@link paint}). */
export function emphasis(stream: NodeJS.WriteStream): (kind: string, text: string) => string {
  const styles: Readonly<Record<string, Style>> = {
    accepted: "green",
    verified: "yellow",
    rejected: "red",
    failed: "red",
    fail: "red",
  };
  return (kind, text) => paint(stream, styles[kind] ?? "bold", text);
}
