/** The one mapping from Keyward error codes to Connect codes. */
import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorCode, isErrorCode, isKeywardError, KeywardError } from "@keyward/attest/errors";

const BY_CODE: Readonly<Record<string, Code>> = {
  ERR_SERVICE_NOT_ATTESTED: Code.Unauthenticated,
  ERR_SERVICE_DENIED: Code.PermissionDenied,
  ERR_SERVICE_CHALLENGE_INVALID: Code.Unauthenticated,
  ERR_SERVICE_SECRET_NOT_FOUND: Code.NotFound,
  ERR_SERVICE_REQUEST_INVALID: Code.InvalidArgument,
  ERR_SERVICE_SOURCE_UNSUPPORTED: Code.FailedPrecondition,
  ERR_SERVICE_NOT_FOUND: Code.NotFound,
  ERR_SERVICE_POLICY_CONFLICT: Code.AlreadyExists,
  ERR_SERVICE_CONFIG: Code.FailedPrecondition,
  ERR_POLICY_INVALID: Code.InvalidArgument,
  ERR_INPUT_INVALID: Code.InvalidArgument,
  ERR_ENCODING_INVALID: Code.InvalidArgument,
  ERR_ADMIN_STEP_UP_REQUIRED: Code.PermissionDenied,
  ERR_ADMIN_UNAUTHENTICATED: Code.Unauthenticated,
  // Launcher failures are the service's own condition (its cluster access), not the caller's fault.
  ERR_LAUNCHER_CONFIG: Code.FailedPrecondition,
  ERR_LAUNCHER_UNAUTHENTICATED: Code.FailedPrecondition,
  ERR_LAUNCHER_FORBIDDEN: Code.FailedPrecondition,
  ERR_LAUNCHER_NOT_FOUND: Code.FailedPrecondition,
  ERR_LAUNCHER_INVALID_SPEC: Code.FailedPrecondition,
  ERR_LAUNCHER_CONFLICT: Code.AlreadyExists,
  ERR_LAUNCHER_START_FAILED: Code.Unavailable,
  ERR_LAUNCHER_TIMEOUT: Code.DeadlineExceeded,
  ERR_LAUNCHER_UNAVAILABLE: Code.Unavailable,
};

/** A Connect error carrying the Keyward code in its message (never a secret). */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (isKeywardError(e)) {
    // Evidence that does not verify is an authentication failure, not a service fault.
    const evidence = /^ERR_(DCAP|X509|RATLS|CBOR|QUOTE|POLICY)_/.test(e.code)
      ? Code.Unauthenticated
      : undefined;
    return new ConnectError(`${e.code}: ${e.message}`, BY_CODE[e.code] ?? evidence ?? Code.Internal);
  }
  return new ConnectError("ERR_INTERNAL: internal error", Code.Internal);
}

/**
 * The Keyward error a client received: the code the service put first in the message, or
 * ERR_INTERNAL when the failure did not come from the service (e.g. a broken connection).
 */
export function fromConnectError(e: unknown): KeywardError {
  if (isKeywardError(e)) return e;
  const message = e instanceof ConnectError ? e.rawMessage : String((e as Error)?.message ?? e);
  const m = /^(ERR_[A-Z0-9_]+): (.*)$/s.exec(message);
  const code: ErrorCode = m !== null && isErrorCode(m[1] as string) ? (m[1] as ErrorCode) : "ERR_IO";
  return new KeywardError(code, m?.[2] ?? `the service could not be reached: ${message}`, { cause: e });
}
