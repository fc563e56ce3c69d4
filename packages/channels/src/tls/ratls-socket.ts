/**
 * RA-TLS over node:tls, one-way and mutual. The server hands a connection to the application only
 * after the client's evidence verified (mutual); the client resolves only after the server's
 * evidence verified, before it writes a byte. A refused peer is disconnected and logged with the
 * error code; the verified claims travel with the socket.
 *
 * @module
 */
import { connect, createServer, type Server, type TLSSocket } from "node:tls";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import type { PeerVerifier } from "./peer-verifier.ts";

/** A key and certificate to present (an RA-TLS credential, or an ordinary one). */
export interface TlsCredential {
  readonly keyPem: string;
  readonly certificatePem: string;
}

/** Where refusals are reported. Never given secrets. */
export interface ChannelLogger {
  warn(event: Record<string, unknown>): void;
}

const identities = new WeakMap<TLSSocket, RaTlsVerdict>();

/** The verified claims of the peer on `socket`, if it presented verified evidence. */
export function peerIdentityOf(socket: TLSSocket): RaTlsVerdict | undefined {
  return identities.get(socket);
}

/** Options of {@link createRaTlsServer}. */
export interface RaTlsServerOptions {
  readonly credential: TlsCredential;
  /** Mutual RA-TLS: clients must present verified evidence. */
  readonly peerVerifier?: PeerVerifier;
  readonly logger?: ChannelLogger;
}

/** node:tls server options of an RA-TLS server: its credential, and a client certificate when mutual. */
export function raTlsServerTlsOptions(options: RaTlsServerOptions): {
  key: string;
  cert: string;
  requestCert: boolean;
  rejectUnauthorized: false;
  minVersion: "TLSv1.2";
} {
  return {
    key: options.credential.keyPem,
    cert: options.credential.certificatePem,
    requestCert: options.peerVerifier !== undefined,
    // The client's certificate is self-signed RA-TLS: its trust comes from its evidence.
    rejectUnauthorized: false,
    minVersion: "TLSv1.2",
  };
}

/**
 * Verifies the client on `socket` (undefined when the server is not mutual). A refused client is
 * logged with the code and disconnected, and the promise rejects; callers run nothing for it.
 */
export function verifyClientOf(
  socket: TLSSocket,
  options: RaTlsServerOptions,
): Promise<RaTlsVerdict | undefined> {
  const verifier = options.peerVerifier;
  if (verifier === undefined) return Promise.resolve(undefined);
  const verdict = verifyPeerOf(socket, verifier).then((peer) => {
    identities.set(socket, peer);
    return peer;
  });
  verdict.catch((e: unknown) => {
    options.logger?.warn({
      event: "ratls_peer_refused",
      side: "server",
      code: isKeywardError(e) ? e.code : "ERR_INTERNAL",
      remote: socket.remoteAddress,
    });
    socket.destroy();
  });
  return verdict;
}

/**
 * A TLS server whose `onConnection` runs only for verified clients (when a peer verifier is given).
 */
export function createRaTlsServer(
  options: RaTlsServerOptions,
  onConnection: (socket: TLSSocket, peer: RaTlsVerdict | undefined) => void,
): Server {
  const server = createServer(raTlsServerTlsOptions(options));
  server.on("secureConnection", (socket: TLSSocket) => {
    if (options.peerVerifier === undefined) return onConnection(socket, undefined);
    socket.pause(); // nothing the client sent is read before it is verified
    verifyClientOf(socket, options).then(
      (peer) => {
        onConnection(socket, peer);
        socket.resume();
      },
      () => undefined, // logged and disconnected by verifyClientOf
    );
  });
  return server;
}

/** Options of {@link connectRaTls}. */
export interface RaTlsConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly peerVerifier: PeerVerifier;
  /** Mutual RA-TLS: the client's own credential. */
  readonly credential?: TlsCredential;
  readonly servername?: string;
  readonly logger?: ChannelLogger;
  readonly timeoutMs?: number;
  readonly alpn?: readonly string[];
}

/**
 * Connects and verifies the server's evidence before resolving: nothing is written to a server
 * that is refused.
 * @throws the peer verifier's codes; ERR_RATLS_NO_EVIDENCE when the server shows no certificate
 */
export async function connectRaTls(
  options: RaTlsConnectOptions,
): Promise<{ readonly socket: TLSSocket; readonly peer: RaTlsVerdict }> {
  const socket = connect({
    host: options.host,
    port: options.port,
    servername:
      options.servername ??
      (options.host === "127.0.0.1" || options.host === "::1" ? undefined : options.host),
    rejectUnauthorized: false,
    ...(options.credential === undefined
      ? {}
      : { key: options.credential.keyPem, cert: options.credential.certificatePem }),
    ...(options.alpn === undefined ? {} : { ALPNProtocols: [...options.alpn] }),
    minVersion: "TLSv1.2",
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new KeywardError("ERR_IO", "RA-TLS: handshake timed out")),
      options.timeoutMs ?? 10_000,
    );
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("error", (cause) => {
      clearTimeout(timer);
      reject(
        new KeywardError("ERR_IO", `RA-TLS: cannot connect to ${options.host}:${options.port}`, { cause }),
      );
    });
  });
  // Keep a listener while verifying: a reset in that window must not crash the process.
  let lost: Error | undefined;
  const onError = (e: Error) => {
    lost = e;
  };
  socket.on("error", onError);
  try {
    const peer = await verifyPeerOf(socket, options.peerVerifier);
    if (lost !== undefined)
      throw new KeywardError("ERR_IO", "RA-TLS: the connection failed during verification", { cause: lost });
    identities.set(socket, peer);
    return { socket, peer };
  } catch (e) {
    options.logger?.warn({
      event: "ratls_peer_refused",
      side: "client",
      code: isKeywardError(e) ? e.code : "ERR_INTERNAL",
      host: options.host,
    });
    socket.destroy();
    throw e;
  } finally {
    socket.off("error", onError);
  }
}

async function verifyPeerOf(socket: TLSSocket, verifier: PeerVerifier): Promise<RaTlsVerdict> {
  const cert = socket.getPeerCertificate(false);
  if (cert === null || cert.raw === undefined || cert.raw.length === 0) {
    throw new KeywardError("ERR_RATLS_NO_EVIDENCE", "the peer presented no certificate");
  }
  return verifier.verify(new Uint8Array(cert.raw));
}
