/**
 * Error codes of the KBS protocol listener (Confidential Containers' Key Broker Service protocol),
 * each with its one-line description and its gRPC status. On the wire they become the protocol's
 * problem-details JSON and HTTP status (features/kbs/problems.ts).
 */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const kbsCodes = {
  ERR_KBS_VERSION: {
    status: Code.FailedPrecondition,
    doc: "The KBS Request names a protocol version this service does not speak (it speaks 0.4.0, as Trustee does).",
  },
  ERR_KBS_REQUEST_INVALID: {
    status: Code.InvalidArgument,
    doc: "A KBS Request or Attestation is not the protocol's JSON (a field missing or mistyped, an unsupported TEE, too large).",
  },
  ERR_KBS_SESSION_INVALID: {
    status: Code.Unauthenticated,
    doc: "The kbs-session-id cookie names no session, an expired one, or one whose challenge was already answered.",
  },
  ERR_KBS_EVIDENCE_BINDING: {
    status: Code.Unauthenticated,
    doc: "The evidence does not bind the session: a different nonce, or report data that is not the hash of the runtime data (nonce and TEE key), or init-data that is not the measured configuration.",
  },
  ERR_KBS_TOKEN_INVALID: {
    status: Code.Unauthenticated,
    doc: "No attestation token, or one that is malformed, expired, or not signed by this service.",
  },
  ERR_KBS_RESOURCE_PATH: {
    status: Code.NotFound,
    doc: "The request path is not a KBS endpoint or not /kbs/v0/resource/<repository>/<type>/<tag>.",
  },
} as const satisfies Readonly<Record<`ERR_KBS_${string}`, CodeSpec>>;
