/**
 * The licensing listener: HTTP/2 over TLS with the licensing server's certificate, serving
 * `keyward.v1.Licensing` (gRPC and Connect) and the JWKS at GET /.well-known/jwks.json.
 *
 * Users present no client certificate; they authenticate in the protocol (password, then bearer
 * token). Enclaves present their RA-TLS certificate: it is verified (the service's peer verifier,
 * cached) before the request reaches a handler, and the verdict is the call's `peer` —
 * RegisterEnclave requires it. A client certificate that does not verify is not an error here
 * (the caller is just not an enclave), but it never becomes a `peer`.
 *
 * @module
 */
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { TLSSocket } from "node:tls";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import { peerIdentityKey, requestOriginKey } from "@keyward/channels/grpc";
import type { PeerVerifier, TlsCredential } from "@keyward/channels/tls";
import { type Listening, listenOn } from "../../kernel/listening.ts";
import { connectRoutes, type RpcService } from "../../kernel/rpc.ts";

/** Largest request message: passwords, certificates and credentials are far smaller. */
export const MAX_REQUEST_BYTES = 64 * 1024;
const JWKS_PATH = "/.well-known/jwks.json";
const verdicts = new WeakMap<TLSSocket, Promise<RaTlsVerdict | undefined>>();

/** Starts the licensing listener on `listen`. */
export function startLicensingListener(
  services: readonly RpcService[],
  tls: { readonly credential: TlsCredential; readonly peerVerifier: PeerVerifier },
  jwks: () => Promise<unknown>,
  listen: { readonly host: string; readonly port: number },
): Promise<Listening> {
  const kPeer = Symbol("licensing.peer");
  const connect = connectNodeAdapter({
    routes: connectRoutes(services),
    grpc: true,
    grpcWeb: false,
    connect: true,
    readMaxBytes: MAX_REQUEST_BYTES,
    contextValues: (req) =>
      createContextValues()
        .set(peerIdentityKey, (req as unknown as { [kPeer]?: RaTlsVerdict })[kPeer])
        .set(requestOriginKey, { clientAddress: req.socket.remoteAddress }),
  });
  const peerOf = (socket: TLSSocket): Promise<RaTlsVerdict | undefined> => {
    let v = verdicts.get(socket);
    if (v === undefined) {
      const cert = socket.getPeerCertificate(false);
      v =
        cert?.raw === undefined || cert.raw.length === 0
          ? Promise.resolve(undefined)
          : tls.peerVerifier.verify(new Uint8Array(cert.raw)).catch(() => undefined);
      verdicts.set(socket, v);
    }
    return v;
  };
  const server = createSecureServer(
    {
      key: tls.credential.keyPem,
      cert: tls.credential.certificatePem,
      // Enclaves show their RA-TLS certificate; its trust comes from its evidence, not a CA.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      // JWKS consumers and Connect clients may speak HTTP/1.1.
      allowHTTP1: true,
    },
    (req: Http2ServerRequest, res: Http2ServerResponse) => {
      if (req.method === "GET" && req.url === JWKS_PATH) {
        jwks().then(
          (set) => {
            res.writeHead(200, {
              "content-type": "application/jwk-set+json",
              "cache-control": "max-age=300",
            });
            res.end(JSON.stringify(set));
          },
          () => res.writeHead(500).end(),
        );
        return;
      }
      const socket = (req.stream?.session?.socket ?? req.socket) as unknown as TLSSocket | undefined;
      (socket === undefined ? Promise.resolve(undefined) : peerOf(socket)).then((peer) => {
        if (peer !== undefined) (req as unknown as { [kPeer]?: RaTlsVerdict })[kPeer] = peer;
        connect(req, res);
      });
    },
  );
  // Clients and enclaves keep their connections open; closing ends them (else close waits forever).
  const sockets = new Set<TLSSocket>();
  server.on("secureConnection", (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return listenOn(server, listen).then((l) => ({
    ...l,
    close: async () => {
      const closed = l.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  }));
}
