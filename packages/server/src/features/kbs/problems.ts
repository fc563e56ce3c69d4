/**
 * Errors on the KBS wire: the protocol's problem-details JSON (RFC 7807, kbs-types
 * `ErrorInformation`) `{ "type": "https://github.com/confidential-containers/kbs/errors/<T>",
 * "detail": "…" }` with the status the protocol document gives:
 *
 * - 401 for everything in the authentication phase (a refused Request or Attestation: Trustee's
 *   `AttestationError`, `PolicyDeny` when no policy accepts the evidence) and for a resource
 *   request without a valid token (`TokenNotFound`, `TokenVerifierError`) — guest components
 *   answer a 401 on a resource with a new handshake;
 * - 403 `PolicyDeny` when an attested caller asks for a resource its policy does not grant
 *   (the protocol document's "Resource Requests": Trustee's code answers 401 here, which makes the
 *   client repeat the handshake in vain);
 * - 404 `InvalidRequestPath` for a path that is no endpoint, `ResourceNotFound` for a granted
 *   resource with no value;
 * - 500/503 for the service's own faults.
 *
 * The detail is the Keyward code and message (never a secret or token).
 *
 * @module
 */
import type { ErrorCode } from "@keyward/attest/errors";
import { isKeywardError } from "@keyward/attest/errors";

/** The problem-type prefix of kbs-types' ErrorInformation (an identifier, not a link). */
export const PROBLEM_PREFIX = "https://github.com/confidential-containers/kbs/errors/";

/** The phase an error happened in: it decides 401 or 403 for a policy refusal. */
export type KbsPhase = "auth" | "attest" | "resource";

/** An error response. */
export interface Problem {
  readonly status: number;
  readonly type: string;
  readonly detail: string;
  readonly code: ErrorCode;
}

const NOT_FOUND_VALUES: ReadonlySet<ErrorCode> = new Set([
  "ERR_SERVICE_SECRET_NOT_FOUND",
  "ERR_VAULT_NOT_FOUND",
] as ErrorCode[]);

/** The problem for `e` in `phase`. */
export function problemOf(e: unknown, phase: KbsPhase): Problem {
  const code: ErrorCode = isKeywardError(e) ? e.code : "ERR_INTERNAL";
  const detail = isKeywardError(e) ? `${e.code}: ${e.message}` : "ERR_INTERNAL: internal error";
  const p = (status: number, type: string): Problem => ({
    status,
    type: PROBLEM_PREFIX + type,
    detail,
    code,
  });
  if (code === "ERR_KBS_RESOURCE_PATH") return p(404, "InvalidRequestPath");
  if (code === "ERR_KBS_TOKEN_INVALID")
    return p(401, phase === "resource" ? "TokenVerifierError" : "AttestationError");
  if (code === "ERR_SERVICE_NOT_ATTESTED") return p(401, "TokenNotFound");
  if (code === "ERR_SERVICE_DENIED")
    return phase === "resource" ? p(403, "PolicyDeny") : p(401, "PolicyDeny");
  if (code === "ERR_SERVICE_REQUEST_INVALID" && phase === "resource") return p(404, "InvalidRequestPath");
  if (NOT_FOUND_VALUES.has(code)) return p(404, "ResourceNotFound");
  if (code === "ERR_INTERNAL" || code === "ERR_IO") return p(500, "InternalError");
  if (code === "ERR_VAULT_UNAVAILABLE") return p(503, "PluginInternalError");
  if (code === "ERR_VAULT_FORBIDDEN" || code === "ERR_SERVICE_SOURCE_UNSUPPORTED")
    return p(500, "PluginInternalError");
  if (code === "ERR_SERVICE_SECRET_INTEGRITY") return p(500, "PluginInternalError");
  // Everything else refuses the handshake: a bad Request or Attestation, a version mismatch, an
  // unknown session, evidence that does not verify or bind.
  return p(401, "AttestationError");
}
