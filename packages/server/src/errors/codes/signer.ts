/** Error codes of the device registry (features/signer), each with its one-line description and its gRPC status. */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const signerRegistryCodes = {
  ERR_SIGNER_DEVICE_INVALID: {
    status: Code.InvalidArgument,
    doc: "A device name is not 1-128 characters of [A-Za-z0-9._:-], or a signature format is not cose, der or raw.",
  },
  ERR_SIGNER_DEVICE_NOT_FOUND: {
    status: Code.NotFound,
    doc: "No device of this name is registered: readings are verified against registered keys only.",
  },
  ERR_SIGNER_DEVICE_REVOKED: {
    status: Code.PermissionDenied,
    doc: "The device was revoked: its readings are refused and it cannot register a key again.",
  },
  ERR_SIGNER_BUNDLE_REPLAYED: {
    status: Code.FailedPrecondition,
    doc: "The bundle's generation is not above the device's registered key: an old bundle replayed after a rotation.",
  },
  ERR_SIGNER_PURPOSE_MISMATCH: {
    status: Code.FailedPrecondition,
    doc: "The bundle's key purpose differs from the purpose the device registered with.",
  },
} as const satisfies Readonly<Record<`ERR_SIGNER_${string}`, CodeSpec>>;
