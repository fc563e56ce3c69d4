/** Error codes of the Admin listener, each with its one-line description and its gRPC status. */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const adminCodes = {
  ERR_ADMIN_STEP_UP_REQUIRED: {
    status: Code.PermissionDenied,
    doc: "An administrative change needs a second factor that was missing or not accepted.",
  },
  ERR_ADMIN_UNAUTHENTICATED: {
    status: Code.Unauthenticated,
    doc: "The Admin listener accepts only client certificates issued by its admin CA.",
  },
} as const satisfies Readonly<Record<`ERR_ADMIN_${string}`, CodeSpec>>;
