/**
 * HTTP plumbing of the KBS listener: an HTTP/1.1 server over TLS (or plain HTTP in development)
 * with request bodies read up to a bound, JSON answers, the protocol's error JSON, and the
 * `kbs-session-id` cookie. Guest components speak HTTP/1.1 (reqwest) with a cookie store.
 *
 * @module
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { KeywardError } from "@keyward/attest/errors";
import type { TlsCredential } from "@keyward/channels/tls";
import type { Problem } from "./problems.ts";

/** The cookie that names a KBS session. */
export const SESSION_COOKIE = "kbs-session-id";

/** A request handler; its errors become problem JSON through `toProblem`. */
export type KbsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** An HTTP(S) server running `handler`, with timeouts that bound slow clients. */
export function createKbsServer(
  credential: TlsCredential | undefined,
  handler: KbsHandler,
  onError: (e: unknown, req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const listener = (req: IncomingMessage, res: ServerResponse) =>
    void handler(req, res).catch((e: unknown) => onError(e, req, res));
  const server =
    credential === undefined
      ? createHttpServer(listener)
      : createHttpsServer(
          { cert: credential.certificatePem, key: credential.keyPem, minVersion: "TLSv1.2" },
          listener,
        );
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 30_000;
  server.maxHeadersCount = 64;
  return server;
}

/**
 * The request body as JSON, read up to `maxBytes` (a larger body is refused while it arrives).
 * @throws ERR_KBS_REQUEST_INVALID (too large, not JSON)
 */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes)
    throw new KeywardError("ERR_KBS_REQUEST_INVALID", `the body is over ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > maxBytes) {
      req.destroy();
      throw new KeywardError("ERR_KBS_REQUEST_INVALID", `the body is over ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (cause) {
    throw new KeywardError("ERR_KBS_REQUEST_INVALID", "the body is not JSON", { cause });
  }
}

/** Sends `body` as JSON with `status` and extra headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** Sends a problem (kbs-types ErrorInformation). */
export function sendProblem(res: ServerResponse, problem: Problem): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, problem.status, { type: problem.type, detail: problem.detail });
}

/** The value of the session cookie, when the request carries one. */
export function sessionCookieOf(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value for a session: scoped to /kbs/v0, HttpOnly, Secure over TLS. */
export function sessionCookie(id: string, expiresMs: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Expires=${new Date(expiresMs).toUTCString()}; Path=/kbs/v0; HttpOnly${secure ? "; Secure" : ""}`;
}

/** The bearer token of an `Authorization: Bearer …` header. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return m?.[1];
}
