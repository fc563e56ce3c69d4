/**
 * Structured JSON logs (pino) with redaction: no secret, key or token ever reaches a log line.
 *
 * @module
 */
import pino from "pino";

/** The fields a log line may carry; values never include secrets, keys or tokens. */
export interface ServiceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Paths pino replaces with "[redacted]". */
export const REDACT_PATHS = [
  "value",
  "*.value",
  "secret",
  "*.secret",
  "secrets",
  "*.secrets",
  "token",
  "*.token",
  "appToken",
  "*.appToken",
  "app_token",
  "*.app_token",
  "key",
  "*.key",
  "masterKey",
  "*.masterKey",
  "password",
  "*.password",
];

/**
 * A JSON logger (pino) with the redaction list applied, writing lines of `level` and above to
 * `destination` (default: stdout).
 */
export function createLogger(destination?: pino.DestinationStream, level = "info"): pino.Logger {
  const options = {
    level,
    base: { service: "keyward" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
