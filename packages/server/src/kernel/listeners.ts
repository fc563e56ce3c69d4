/**
 * The kernel's listeners, each serving the features' services registered on it:
 * - `service`: mutual RA-TLS gRPC (the caller's evidence verified before any handler runs), with
 *   the lean unary path;
 * - `challenge`: one-way RA-TLS (the client verifies the service; callers authenticate in the
 *   protocol), for workloads behind a TLS-terminating proxy and plain HTTP clients: gRPC, gRPC-Web
 *   and Connect (JSON or binary) over HTTP/2 and HTTP/1.1 (ALPN picks), with gRPC health checking
 *   and server reflection;
 * - `admin`: mutual TLS with the admin CA's client certificates only (TLS 1.3), with health
 *   checking and server reflection (for grpcurl with the operator's certificate);
 * - the h2c health listener: gRPC health checking alone, in plaintext, for Kubernetes probes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  createServer as createH2cServer,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
} from "node:http2";
import type { TLSSocket } from "node:tls";
import { type ConnectRouter, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createRaTlsGrpcServer, requestOriginKey } from "@keyward/channels/grpc";
import {
  createPeerVerifier,
  type PeerVerifierOptions,
  type TlsCredential,
  type VerifyCertificate,
} from "@keyward/channels/tls";
import { Health } from "@keyward/proto/grpc";
import { toConnectError } from "../errors/connect.ts";
import { grpcHealthRoutes } from "./grpc-health.ts";
import { LIMITS } from "./limits.ts";
import { type Listening, listenOn } from "./listening.ts";
import { reflectionRoutes } from "./reflection.ts";
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

/**
 * The features' services on a listener, with gRPC health checking (`ready`: the service's
 * readiness) and server reflection for them.
 */
function withHealthAndReflection(
  services: readonly RpcService[],
  ready: () => Promise<boolean>,
  observed: Parameters<typeof connectRoutes>[1],
): (router: ConnectRouter) => void {
  const names = services.map((s) => s.service.typeName);
  return (router) => {
    connectRoutes(services, observed)(router);
    grpcHealthRoutes(names, ready)(router);
    reflectionRoutes([...services.map((s) => s.service), Health])(router);
  };
}

/**
 * Starts the challenge listener: one-way RA-TLS (the service presents its credential), HTTP/2 and
 * HTTP/1.1, gRPC, gRPC-Web and Connect, health and reflection. Callers are anonymous here: request
 * messages are held to {@link LIMITS.maxMessageBytes} before any handler runs.
 */
export function startChallengeListener(
  services: readonly RpcService[],
  tls: { readonly credential: TlsCredential },
  listen: ListenAddress,
  ready: () => Promise<boolean>,
  requests?: RequestObserver,
): Promise<Listening> {
  const observed = requests === undefined ? undefined : { listener: "challenge" as const, requests };
  const handler = connectNodeAdapter({
    routes: withHealthAndReflection(services, ready, observed),
    grpc: true,
    grpcWeb: true,
    connect: true,
    readMaxBytes: LIMITS.maxMessageBytes,
    contextValues: (req) =>
      createContextValues().set(requestOriginKey, { clientAddress: req.socket.remoteAddress }),
  });
  const server: Http2SecureServer = createSecureServer(
    {
      key: tls.credential.keyPem,
      cert: tls.credential.certificatePem,
      minVersion: "TLSv1.2",
      // curl without --http2, browsers' fetch and HTTP/1.1 proxies: ALPN picks the protocol.
      allowHTTP1: true,
      ALPNProtocols: ["h2", "http/1.1"],
    },
    handler,
  );
  return listenOn(server, listen);
}

/**
 * The h2c (plaintext HTTP/2, prior knowledge) health server: gRPC health checking only, for
 * Kubernetes gRPC probes and grpc_health_probe, which connect without TLS.
 */
export function grpcHealthH2cServer(
  services: readonly RpcService[],
  ready: () => Promise<boolean>,
): Http2Server {
  const names = [...new Set(services.map((s) => s.service.typeName))];
  return createH2cServer(
    connectNodeAdapter({
      routes: grpcHealthRoutes(names, ready),
      grpc: true,
      grpcWeb: false,
      connect: false,
      readMaxBytes: 4096,
    }),
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
  ready: () => Promise<boolean>,
  requests?: RequestObserver,
): Promise<Listening> {
  const handler = connectNodeAdapter({
    routes: withHealthAndReflection(
      services,
      ready,
      requests === undefined ? undefined : { listener: "admin", requests },
    ),
    grpc: true,
    grpcWeb: false,
    connect: true,
    // Operators are authenticated, but a mistaken 200 MB value must not be read whole to be refused.
    readMaxBytes: LIMITS.maxAdminMessageBytes,
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
