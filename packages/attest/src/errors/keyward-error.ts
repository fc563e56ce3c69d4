/**
 * The one error class of Keyward. Every failure caused by input carries a stable `code` from
 * the closed catalogue in `codes.ts`; the CLI and the gRPC layer map codes, never messages.
 *
 * @module
 */
import type { ErrorCode } from "./codes.ts";

/** Options for {@link KeywardError}. */
export interface KeywardErrorOptions {
  readonly cause?: unknown;
  /** Structured facts for logs and tests: field names, offsets, sizes. Never secrets. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** An error with a stable machine-readable code and a human message. */
export class KeywardError extends Error {
  override readonly name = "KeywardError";
  readonly code: ErrorCode;
  readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: KeywardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
  }
}

/** True when `e` is a {@link KeywardError}, optionally with the given code. */
export function isKeywardError(e: unknown, code?: ErrorCode): e is KeywardError {
  return e instanceof KeywardError && (code === undefined || e.code === code);
}
