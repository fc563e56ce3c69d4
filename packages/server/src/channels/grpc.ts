/**
 * gRPC (Connect-ES) over mutual RA-TLS: the verified claims of the caller reach handlers through
 * `peerIdentityKey` in the handler context; a client transport is bound to a verified connection.
 *
 * @module
 */

import type { Http2SecureServer } from "node:http2";
import {
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
} from "./http2.ts";
import { connectRaTls, type RaTlsConnectOptions } from "./tls.ts";

/** Where handlers find the caller's verified claims: `ctx.values.get(peerIdentityKey)`. */
export const peerIdentityKey = createContextKey<RaTlsVerdict | undefined>(undefined, {
  description: "RA-TLS peer",
});

/** A gRPC/Connect server over RA-TLS; handlers run only for verified callers (when mutual). */
export function createRaTlsGrpcServer(
  options: RaTlsHttp2ServerOptions,
  routes: (router: ConnectRouter) => void,
): Http2SecureServer {
  const handler = connectNodeAdapter({
    routes,
    grpc: true,
    grpcWeb: false,
    connect: true,
    contextValues: (req) =>
      createContextValues().set(peerIdentityKey, peerOfRequest(req as Parameters<typeof peerOfRequest>[0])),
  });
  return createRaTlsHttp2Server(options, handler);
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
