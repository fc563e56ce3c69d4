/**
 * Keyward errors on the wire: a Connect error whose message starts with the code (never a secret),
 * with the status from the one table (status.ts); and, on the client side, the Keyward error back.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorCode, isErrorCode, isKeywardError, KeywardError } from "@keyward/attest/errors";
import { isServiceErrorCode } from "./catalogue.ts";
import { statusOf } from "./status.ts";

/** The response metadata that carries a lockout's `retryAfter` (seconds), as HTTP's Retry-After does. */
export const RETRY_AFTER_HEADER = "keyward-retry-after";

/**
 * A Connect error carrying the Keyward code in its message (and a lockout's `retryAfter` in the
 * `keyward-retry-after` metadata); anything else is INTERNAL.
 */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (isKeywardError(e)) {
    const retryAfter = e.detail?.retryAfter;
    return new ConnectError(
      `${e.code}: ${e.message}`,
      statusOf(e.code),
      typeof retryAfter === "number" ? { [RETRY_AFTER_HEADER]: String(retryAfter) } : undefined,
    );
  }
  return new ConnectError("ERR_INTERNAL: internal error", Code.Internal);
}

/** True when `s` is a code of the library's or the service's catalogue. */
export function isKnownErrorCode(s: string): s is ErrorCode {
  return isErrorCode(s) || isServiceErrorCode(s);
}

/**
 * The Keyward error a client received: the code the service put first in the message, or ERR_IO
 * when the failure did not come from the service (e.g. a broken connection).
 */
export function fromConnectError(e: unknown): KeywardError {
  if (isKeywardError(e)) return e;
  const message = e instanceof ConnectError ? e.rawMessage : String((e as Error)?.message ?? e);
  const m = /^(ERR_[A-Z0-9_]+): (.*)$/s.exec(message);
  const code: ErrorCode = m !== null && isKnownErrorCode(m[1] as string) ? (m[1] as ErrorCode) : "ERR_IO";
  // The lean gRPC path sends no metadata with an error: the message says it too ("retry after N s").
  const retry =
    (e instanceof ConnectError ? e.metadata.get(RETRY_AFTER_HEADER) : null) ??
    /retry after (\d+) s/.exec(message)?.[1];
  return new KeywardError(code, m?.[2] ?? `the service could not be reached: ${message}`, {
    cause: e,
    ...(retry === undefined || retry === null ? {} : { detail: { retryAfter: Number(retry) } }),
  });
}
