/**
 * What the service declares for each of its error codes: the one-line description (docs/errors.md)
 * and the gRPC/Connect status a caller receives. A code cannot be declared without its status.
 *
 * @module
 */
import type { Code } from "@connectrpc/connect";

/** One code's declaration. */
export interface CodeSpec {
  readonly status: Code;
  readonly doc: string;
}
