/**
 * RA-TLS over HTTP/2 (and so gRPC): a server whose request handler runs only after the client's
 * evidence verified (mutual), and a client session opened on a connection whose server evidence
 * verified before the HTTP/2 preface was written.
 *
 * @module
 */
import {
  type ClientHttp2Session,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  connect as http2Connect,
} from "node:http2";
import { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import type { PeerVerifier } from "../tls/peer-verifier.ts";
import {
  type ChannelLogger,
  connectRaTls,
  type RaTlsConnectOptions,
  raTlsServerTlsOptions,
  type TlsCredential,
  verifyClientOf,
} from "../tls/ratls-socket.ts";

const kVerdict = Symbol("keyward.ratls.verdict");
type Marked = { [kVerdict]?: Promise<RaTlsVerdict | undefined> };

/** Options of {@link createRaTlsHttp2Server}. */
export interface RaTlsHttp2ServerOptions {
  readonly credential: TlsCredential;
  readonly peerVerifier?: PeerVerifier;
  readonly logger?: ChannelLogger;
}

/** The verified peer of an HTTP/2 request handled by {@link createRaTlsHttp2Server}. */
export function peerOfRequest(req: Http2ServerRequest): RaTlsVerdict | undefined {
  return (req as unknown as { [kPeer]?: RaTlsVerdict })[kPeer];
}
const kPeer = Symbol("keyward.ratls.peer");

/** An HTTP/2 server over RA-TLS; `handler` runs only for verified peers (when mutual). */
export function createRaTlsHttp2Server(
  options: RaTlsHttp2ServerOptions,
  handler: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
): Http2SecureServer {
  const server = createSecureServer(raTlsServerTlsOptions(options));
  server.prependListener("secureConnection", (socket: TLSSocket) => {
    const verdict = verifyClientOf(socket, options);
    verdict.catch(() => undefined); // logged and disconnected by verifyClientOf
    (socket as unknown as Marked)[kVerdict] = verdict;
  });
  server.on("request", (req, res) => {
    const socket = req.stream.session?.socket as unknown as Marked | undefined;
    const verdict = socket?.[kVerdict] ?? Promise.reject(new Error("no verification"));
    verdict.then(
      (peer) => {
        if (peer !== undefined) (req as unknown as { [kPeer]?: RaTlsVerdict })[kPeer] = peer;
        handler(req, res);
      },
      () => req.stream.close(0x07), // REFUSED_STREAM: no handler ever ran
    );
  });
  return server;
}

/**
 * Opens an HTTP/2 session to an RA-TLS server whose evidence verified before anything was sent.
 * The session is bound to that one verified connection: it does not reconnect by itself.
 */
export async function connectRaTlsHttp2(
  options: Omit<RaTlsConnectOptions, "alpn">,
): Promise<{ readonly session: ClientHttp2Session; readonly peer: RaTlsVerdict }> {
  const { socket, peer } = await connectRaTls({ ...options, alpn: ["h2"] });
  const session = http2Connect(`https://${options.host}:${options.port}`, {
    createConnection: verifiedOnce(socket),
  });
  return { session, peer };
}

/**
 * A `createConnection` that hands out the verified socket once; any later connection (a
 * reconnect) fails closed instead of going to an unverified server.
 */
export function verifiedOnce(socket: TLSSocket): () => TLSSocket | Socket {
  let used = false;
  return () => {
    if (!used) {
      used = true;
      return socket;
    }
    const refused = new Socket();
    queueMicrotask(() => refused.destroy(new Error("RA-TLS: a new connection needs a new verification")));
    return refused;
  };
}
