/**
 * The service's errors as the app sees them: one `KeywardError` whose code is the one the service
 * put first in its message (`ERR_SERVICE_DENIED`, `ERR_OTP_REPLAYED`, …), with a lockout's
 * `retryAfter` (seconds) in `detail`; a failure that never reached the service is `ERR_IO`.
 *
 * @module
 */
import { ConnectError } from "@connectrpc/connect";
import { type ErrorCode, isKeywardError, KeywardError } from "@keyward/attest/errors";

/** `e` as a KeywardError (unchanged when it is one). */
export function asKeywardError(e: unknown): KeywardError {
  if (isKeywardError(e)) return e;
  const message = e instanceof ConnectError ? e.rawMessage : String((e as Error)?.message ?? e);
  const m = /^(ERR_[A-Z0-9_]+): (.*)$/s.exec(message);
  const retry =
    (e instanceof ConnectError ? e.metadata.get("keyward-retry-after") : null) ??
    /retry after (\d+) s/.exec(message)?.[1];
  // The service's codes come from its catalogue, which this package does not import: the code
  // is kept as received.
  return new KeywardError(
    (m?.[1] ?? "ERR_IO") as ErrorCode,
    m?.[2] ?? `the service could not be reached: ${message}`,
    {
      cause: e,
      ...(retry === undefined || retry === null ? {} : { detail: { retryAfter: Number(retry) } }),
    },
  );
}
