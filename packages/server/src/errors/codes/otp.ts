/** Error codes of one-time passwords (features/otp, otpqr), each with its one-line description and its gRPC status. */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const otpCodes = {
  ERR_OTP_INVALID: {
    status: Code.Unauthenticated,
    doc: "The one-time code does not match the account within ±1 time step (counts as a failure for throttling).",
  },
  ERR_OTP_REPLAYED: {
    status: Code.Unauthenticated,
    doc: "The one-time code's time step was already accepted for this account: each code is accepted once (counts as a failure).",
  },
  ERR_OTP_LOCKED: {
    status: Code.ResourceExhausted,
    doc: "Too many consecutive failures for this account or client address: try again after `retryAfter` seconds.",
  },
  ERR_OTP_REQUIRED: {
    status: Code.PermissionDenied,
    doc: "This release or key operation needs a one-time code from the account the policy names, and none (or one of another account) was given.",
  },
  ERR_OTP_ACCOUNT_NOT_FOUND: {
    status: Code.NotFound,
    doc: "No OTP account has this name.",
  },
  ERR_OTP_ACCOUNT_DISABLED: {
    status: Code.PermissionDenied,
    doc: "The OTP account is disabled: its codes are refused and it cannot be enrolled.",
  },
  ERR_OTP_ACCOUNT_EXISTS: {
    status: Code.AlreadyExists,
    doc: "An OTP account with this name exists already.",
  },
  ERR_OTP_ACCOUNT_INVALID: {
    status: Code.InvalidArgument,
    doc: "An OTP account name, issuer, role or parameter is malformed (names and issuers: no ':', printable, at most 128 characters).",
  },
  ERR_OTP_ENROLLMENT_USED: {
    status: Code.FailedPrecondition,
    doc: "The account's one-time enrollment was used already: its secret is handed over once (re-enrollment needs an administrator).",
  },
  ERR_OTP_MARKER_TAMPERED: {
    status: Code.FailedPrecondition,
    doc: "otpqr's local run marker (single_run/once) does not authenticate under its sealed key: it was edited or copied.",
  },
  ERR_OTP_URI_INVALID: {
    status: Code.InvalidArgument,
    doc: "An otpauth:// key URI breaks the Key Uri Format rules (type, label, issuer mismatch, secret, parameters).",
  },
} as const satisfies Readonly<Record<`ERR_OTP_${string}`, CodeSpec>>;
