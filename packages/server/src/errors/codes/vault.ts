/** Error codes of the Vault secret source, each with its one-line description and its gRPC status. */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const vaultCodes = {
  ERR_VAULT_FORBIDDEN: {
    status: Code.FailedPrecondition,
    doc: "Vault answered 403: the policy's app token is invalid or expired, or lacks read access to the path (or no secrets engine is mounted there; Vault does not say which).",
  },
  ERR_VAULT_NOT_FOUND: {
    status: Code.NotFound,
    doc: "Vault answered 404: no secret at the path, its version was deleted or destroyed, or it has no such field.",
  },
  ERR_VAULT_UNAVAILABLE: {
    status: Code.Unavailable,
    doc: "Vault could not be reached in time, is sealed, or answered with an unexpected status or malformed JSON.",
  },
} as const satisfies Readonly<Record<`ERR_VAULT_${string}`, CodeSpec>>;
