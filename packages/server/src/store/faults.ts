/**
 * Which failures of a database mean "the store cannot commit" — a fault of the store's medium or
 * connection, which the service reports as `ERR_STORE_UNAVAILABLE` (gRPC UNAVAILABLE), logs with
 * its cause and shows in `/readyz` — as opposed to a request's own failure (a constraint, a bug).
 *
 * SQLite (node:sqlite: `errcode`, the primary result code in its low byte; sqlite.org/rescode.html):
 * SQLITE_PERM 3, SQLITE_BUSY 5 (the lock was not released within busy_timeout), SQLITE_READONLY 8,
 * SQLITE_IOERR 10, SQLITE_CORRUPT 11, SQLITE_FULL 13, SQLITE_CANTOPEN 14, SQLITE_NOTADB 26.
 * PostgreSQL (SQLSTATE, Appendix A): class 08 (connection exception), 53 (insufficient resources:
 * 53100 disk full), 57P01–57P03 (shutting down, cannot connect now), 58 (system error, I/O), 25006
 * (read-only transaction: a standby). And the socket errors of an unreachable server.
 *
 * @module
 */
import { isKeywardError, KeywardError } from "@keyward/attest/errors";

const SQLITE: Readonly<Record<number, string>> = {
  3: "SQLITE_PERM",
  5: "SQLITE_BUSY",
  8: "SQLITE_READONLY",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  26: "SQLITE_NOTADB",
};

const SOCKET = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

const FILE = new Set(["EROFS", "ENOSPC", "EDQUOT", "EIO", "EACCES", "EPERM", "ENOENT"]);

/**
 * The cause of `e` when it is a store fault (e.g. `SQLITE_READONLY: attempt to write a readonly
 * database`, `PostgreSQL 57P01: terminating connection due to administrator command`,
 * `ECONNREFUSED`), else undefined. Causes carry the engine's words, never a value written.
 */
export function storeFaultOf(e: unknown): string | undefined {
  if (isKeywardError(e)) return e.code === "ERR_STORE_UNAVAILABLE" ? e.message : undefined;
  const x = e as { code?: unknown; errcode?: unknown; errstr?: unknown; message?: unknown } | null;
  if (x === null || typeof x !== "object") return undefined;
  if (x.code === "ERR_SQLITE_ERROR" && typeof x.errcode === "number") {
    const name = SQLITE[x.errcode & 0xff];
    return name === undefined ? undefined : `${name}: ${String(x.errstr ?? x.message)}`;
  }
  if (typeof x.code === "string") {
    const c = x.code;
    if (/^(08|53|58)[0-9A-Z]{3}$/.test(c) || /^57P0[123]$/.test(c) || c === "25006")
      return `PostgreSQL ${c}: ${String(x.message)}`;
    if (SOCKET.has(c)) return `the database server cannot be reached (${c})`;
    if (FILE.has(c)) return `the database file cannot be used (${c})`;
  }
  // node-postgres reports a connection lost between queries in words only.
  if (
    typeof x.message === "string" &&
    /^Connection terminated|^timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      x.message,
    )
  )
    return `the database connection was lost (${x.message})`;
  return undefined;
}

/**
 * `e` as `ERR_STORE_UNAVAILABLE` when it is a store fault (the original kept as the cause), else
 * `e` unchanged.
 */
export function asStoreError(e: unknown): unknown {
  if (isKeywardError(e)) return e;
  const cause = storeFaultOf(e);
  if (cause === undefined) return e;
  return new KeywardError("ERR_STORE_UNAVAILABLE", `the store cannot commit: ${cause}`, {
    cause: e,
    detail: { reason: cause },
  });
}
