/** Error codes of the store (the database), each with its one-line description and its gRPC status. */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const storeCodes = {
  ERR_STORE_UNAVAILABLE: {
    status: Code.Unavailable,
    doc: "The store cannot commit (a read-only or removed database file, a full disk, PostgreSQL unreachable or shutting down): nothing was written; the message names the cause, and /readyz answers 503 until the store commits again.",
  },
} as const satisfies Readonly<Record<`ERR_STORE_${string}`, CodeSpec>>;
