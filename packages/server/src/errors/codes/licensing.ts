/** Error codes of the licensing server (features/licensing, `keyward license`), each with its one-line description and its gRPC status. */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const licensingCodes = {
  ERR_LICENSING_INPUT_INVALID: {
    status: Code.InvalidArgument,
    doc: "A licensing request field is malformed or out of bounds (user name, password length, ids, nonce size, certificate size); the field is named, its value never echoed.",
  },
  ERR_LICENSING_LOGIN_FAILED: {
    status: Code.Unauthenticated,
    doc: "Wrong user name or password: the same answer, after the same work, whether or not the user exists.",
  },
  ERR_LICENSING_USER_EXISTS: {
    status: Code.AlreadyExists,
    doc: "Sign-up: this user name is taken.",
  },
  ERR_LICENSING_LOCKED: {
    status: Code.ResourceExhausted,
    doc: "Too many failed logins for this user name or client address: try again after `retryAfter` seconds (the password is not even checked meanwhile).",
  },
  ERR_LICENSING_OTP_REQUIRED: {
    status: Code.Unauthenticated,
    doc: "This user's logins need a one-time code (LoginRequest.otp = ACCOUNT:CODE) and none, or a wrong one, was given.",
  },
  ERR_LICENSING_TOKEN_INVALID: {
    status: Code.Unauthenticated,
    doc: "The access token is missing, malformed, expired, signed by an unknown key or with another algorithm, or its session was revoked.",
  },
  ERR_LICENSING_REFRESH_INVALID: {
    status: Code.Unauthenticated,
    doc: "The refresh token is unknown, expired or spent; presenting a spent one revokes its whole family (RFC 9700 §4.14).",
  },
  ERR_LICENSING_NO_LICENCE: {
    status: Code.PermissionDenied,
    doc: "The user has no such licence, or it is revoked or expired.",
  },
  ERR_LICENSING_LIMIT: {
    status: Code.ResourceExhausted,
    doc: "The licence's maximum number of concurrent enclaves is reached.",
  },
  ERR_LICENSING_ENCLAVE_NOT_FOUND: {
    status: Code.NotFound,
    doc: "No running enclave of this user has this id.",
  },
  ERR_LICENSING_REGISTRATION_REFUSED: {
    status: Code.PermissionDenied,
    doc: "RegisterEnclave: the caller presented no verified RA-TLS evidence of the licensed enclave, or the launch id is unknown, already used or expired.",
  },
  ERR_LICENSING_TPM: {
    status: Code.Unavailable,
    doc: "The licensing server's TPM could not quote or activate a credential (detail says which command).",
  },
  ERR_LICENSING_NOT_CONFIGURED: {
    status: Code.FailedPrecondition,
    doc: "The licensing server has no TPM or launcher configured for this request.",
  },
  ERR_LICENSING_BINDING_MISMATCH: {
    status: Code.Unauthenticated,
    doc: "Client: the binding does not hold — the quote's extraData is not SHA-256(nonce ‖ certificate hash), PCR 23 is not the certificate's, or the enclave presented another certificate than the bound one; nothing was sent to the enclave.",
  },
  ERR_LICENSING_AK_UNTRUSTED: {
    status: Code.Unauthenticated,
    doc: "Client: the server's AK is neither pinned nor activated through an EK certificate that chains to a configured manufacturer root.",
  },
} as const satisfies Readonly<Record<`ERR_LICENSING_${string}`, CodeSpec>>;
