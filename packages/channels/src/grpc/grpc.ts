/**
 * gRPC (Connect-ES) over mutual RA-TLS: the verified claims of the caller reach handlers through
 * `peerIdentityKey` in the handler context; a client transport is bound to a verified connection.
 *
 * @module
 */

import type { Http2SecureServer } from "node:http2";
import {
  type ConnectError,
  type ConnectRouter,
  createContextKey,
  createContextValues,
  type Transport,
} from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import {
  createRaTlsHttp2Server,
  peerOfRequest,
  type RaTlsHttp2ServerOptions,
  verifiedOnce,
} from "../http/http2.ts";
import { connectRaTls, type RaTlsConnectOptions } from "../tls/ratls-socket.ts";
import { isLeanUnary, serveLeanUnary, type UnaryRoutes } from "./grpc-unary.ts";

/** Where handlers find the caller's verified claims: `ctx.values.get(peerIdentityKey)`. */
export const peerIdentityKey = createContextKey<RaTlsVerdict | undefined>(undefined, {
  description: "RA-TLS peer",
});

/**
 * Where handlers find the request's origin: the client's network address (per-address throttling
 * of one-time codes) — `ctx.values.get(requestOriginKey)`.
 */
export const requestOriginKey = createContextKey<{ readonly clientAddress?: string | undefined }>(
  {},
  { description: "request origin" },
);

/** The lean unary gRPC path (grpc-unary.ts): its routes, message bound and error mapping. */
export interface LeanUnaryOptions {
  readonly routes: UnaryRoutes;
  readonly maxMessageBytes: number;
  readonly toError: (e: unknown) => ConnectError;
}

/**
 * A gRPC/Connect server over RA-TLS; handlers run only for verified callers (when mutual). With
 * `lean`, unary gRPC calls to its routes take the lean path; every other call goes to Connect.
 */
export function createRaTlsGrpcServer(
  options: RaTlsHttp2ServerOptions,
  routes: (router: ConnectRouter) => void,
  lean?: LeanUnaryOptions,
): Http2SecureServer {
  const handler = connectNodeAdapter({
    routes,
    grpc: true,
    grpcWeb: false,
    connect: true,
    ...(lean === undefined ? {} : { readMaxBytes: lean.maxMessageBytes }),
    contextValues: (req) =>
      createContextValues()
        .set(peerIdentityKey, peerOfRequest(req as Parameters<typeof peerOfRequest>[0]))
        .set(requestOriginKey, { clientAddress: req.socket.remoteAddress }),
  });
  if (lean === undefined) return createRaTlsHttp2Server(options, handler);
  return createRaTlsHttp2Server(options, (req, res) =>
    isLeanUnary(req, lean.routes)
      ? serveLeanUnary(req, res, lean.routes, peerOfRequest(req), lean)
      : handler(req, res),
  );
}

/** A gRPC transport to an RA-TLS server whose evidence verified before the first byte was sent. */
export async function createRaTlsGrpcTransport(
  options: Omit<RaTlsConnectOptions, "alpn">,
): Promise<{ readonly transport: Transport; readonly peer: RaTlsVerdict }> {
  const { socket, peer } = await connectRaTls({ ...options, alpn: ["h2"] });
  const transport = createGrpcTransport({
    baseUrl: `https://${options.host}:${options.port}`,
    nodeOptions: { createConnection: verifiedOnce(socket) },
  });
  return { transport, peer };
}
