/**
 * The kernel's listeners, each serving the features' services registered on it:
 * - `service`: mutual RA-TLS gRPC (the caller's evidence verified before any handler runs), with
 *   the lean unary path;
 * - `challenge`: one-way RA-TLS gRPC (the client verifies the service; callers authenticate in
 *   the protocol), for workloads behind a TLS-terminating proxy;
 * - `admin`: mutual TLS with the admin CA's client certificates only (TLS 1.3).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { TLSSocket } from "node:tls";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createRaTlsGrpcServer, requestOriginKey } from "@keyward/channels/grpc";
import {
  createPeerVerifier,
  type PeerVerifierOptions,
  type TlsCredential,
  type VerifyCertificate,
} from "@keyward/channels/tls";
import { toConnectError } from "../errors/connect.ts";
import { LIMITS } from "./limits.ts";
import { type Listening, listenOn } from "./listening.ts";
import type { RequestObserver } from "./requests.ts";
import { connectRoutes, leanRoutes, operatorKey, type RpcService } from "./rpc.ts";

/** A host and port to listen on (port 0: any free port). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Starts the service listener: mutual RA-TLS, callers verified by `verifyPeer` (cached per certificate). */
export function startServiceListener(
  services: readonly RpcService[],
  tls: {
    readonly credential: TlsCredential;
    readonly verifyPeer: VerifyCertificate;
    readonly onVerified?: PeerVerifierOptions["onVerified"];
  },
  listen: ListenAddress,
  requests?: RequestObserver,
): Promise<Listening> {
  const observed = requests === undefined ? undefined : { listener: "service" as const, requests };
  const server = createRaTlsGrpcServer(
    {
      credential: tls.credential,
      peerVerifier: createPeerVerifier({
        verify: tls.verifyPeer,
        ...(tls.onVerified === undefined ? {} : { onVerified: tls.onVerified }),
      }),
    },
    connectRoutes(services, observed),
    {
      routes: leanRoutes(services, observed),
      maxMessageBytes: LIMITS.maxMessageBytes,
      toError: toConnectError,
    },
  );
  return listenOn(server, listen);
}

/** Starts the challenge listener: one-way RA-TLS (the service presents its credential). */
export function startChallengeListener(
  services: readonly RpcService[],
  tls: { readonly credential: TlsCredential },
  listen: ListenAddress,
  requests?: RequestObserver,
): Promise<Listening> {
  const observed = requests === undefined ? undefined : { listener: "challenge" as const, requests };
  return listenOn(
    createRaTlsGrpcServer({ credential: tls.credential }, connectRoutes(services, observed)),
    listen,
  );
}

/** `admin:<CN>:<first 16 hex of SHA-256(certificate)>`: who the audit log says acted. */
export function operatorSubject(commonName: string, certificateDer: Uint8Array): string {
  return `admin:${commonName}:${createHash("sha256").update(certificateDer).digest("hex").slice(0, 16)}`;
}

/**
 * Starts the admin listener: TLS 1.3, client certificates required and verified against the admin
 * CA only (no system roots), before any request reaches a handler.
 */
export function startAdminListener(
  services: readonly RpcService[],
  tls: { readonly caPem: string; readonly certPem: string; readonly keyPem: string },
  listen: ListenAddress,
  requests?: RequestObserver,
): Promise<Listening> {
  const handler = connectNodeAdapter({
    routes: connectRoutes(services, requests === undefined ? undefined : { listener: "admin", requests }),
    grpc: true,
    grpcWeb: false,
    connect: true,
    contextValues: (req) => {
      const socket = (req as unknown as { socket: TLSSocket }).socket;
      const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
      const cn = cert?.subject?.CN;
      return createContextValues()
        .set(
          operatorKey,
          cert?.raw === undefined
            ? undefined
            : operatorSubject(Array.isArray(cn) ? cn.join(",") : (cn ?? "?"), cert.raw),
        )
        .set(requestOriginKey, { clientAddress: socket.remoteAddress });
    },
  });
  const server: Http2SecureServer = createSecureServer(
    {
      cert: tls.certPem,
      key: tls.keyPem,
      ca: tls.caPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.3",
      ALPNProtocols: ["h2"],
    },
    handler,
  );
  return listenOn(server, listen);
}
