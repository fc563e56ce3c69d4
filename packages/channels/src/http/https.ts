/**
 * RA-TLS over HTTPS (HTTP/1.1): a server whose request handler runs only for verified clients
 * (mutual), and requests sent only on a connection whose server evidence verified.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RequestOptions, request } from "node:http";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import type { PeerVerifier } from "../tls/peer-verifier.ts";
import {
  type ChannelLogger,
  connectRaTls,
  peerIdentityOf,
  type RaTlsConnectOptions,
  raTlsServerTlsOptions,
  type TlsCredential,
  verifyClientOf,
} from "../tls/ratls-socket.ts";
import { verifiedOnce } from "./http2.ts";

const pending = new WeakMap<TLSSocket, Promise<RaTlsVerdict | undefined>>();

/** An HTTPS server over RA-TLS; `handler` runs only for verified peers (when mutual). */
export function createRaTlsHttpsServer(
  options: {
    readonly credential: TlsCredential;
    readonly peerVerifier?: PeerVerifier;
    readonly logger?: ChannelLogger;
  },
  handler: (req: IncomingMessage, res: ServerResponse, peer: RaTlsVerdict | undefined) => void,
): Server {
  const server = createServer(raTlsServerTlsOptions(options));
  server.prependListener("secureConnection", (socket: TLSSocket) => {
    const verdict = verifyClientOf(socket, options);
    verdict.catch(() => undefined); // logged and disconnected by verifyClientOf
    pending.set(socket, verdict);
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const verdict = pending.get(req.socket as TLSSocket) ?? Promise.reject(new Error("no verification"));
    verdict.then(
      (peer) => handler(req, res, peer),
      () => req.socket.destroy(),
    );
  });
  return server;
}

/**
 * Sends one HTTPS request over a connection whose server evidence verified first.
 * @throws the peer verifier's codes before anything is sent
 */
export async function raTlsHttpsRequest(
  connection: Omit<RaTlsConnectOptions, "alpn">,
  requestOptions: Omit<RequestOptions, "host" | "port" | "createConnection" | "agent">,
  body?: Uint8Array | string,
): Promise<{ readonly status: number; readonly body: Buffer; readonly peer: RaTlsVerdict }> {
  const { socket, peer } = await connectRaTls({ ...connection, alpn: ["http/1.1"] });
  // HTTP/1.1 on the already verified TLS socket.
  const req = request({
    ...requestOptions,
    host: connection.host,
    port: connection.port,
    createConnection: verifiedOnce(socket) as never,
  });
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
    req.end(body);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  socket.destroy();
  return {
    status: response.statusCode ?? 0,
    body: Buffer.concat(chunks),
    peer: peerIdentityOf(socket) ?? peer,
  };
}
