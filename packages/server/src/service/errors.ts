/** The one mapping from Keyward error codes to Connect codes. */
import { Code, ConnectError } from "@connectrpc/connect";
import { isKeywardError } from "@keyward/attest/errors";

const BY_CODE: Readonly<Record<string, Code>> = {
  ERR_SERVICE_NOT_ATTESTED: Code.Unauthenticated,
  ERR_SERVICE_DENIED: Code.PermissionDenied,
  ERR_SERVICE_CHALLENGE_INVALID: Code.Unauthenticated,
  ERR_SERVICE_SECRET_NOT_FOUND: Code.NotFound,
  ERR_SERVICE_REQUEST_INVALID: Code.InvalidArgument,
  ERR_SERVICE_SOURCE_UNSUPPORTED: Code.FailedPrecondition,
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
