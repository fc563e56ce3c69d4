/**
 * Connections to the service: the app's RA-TLS credential (one per attester, issued once and
 * reused while this process runs), and gRPC transports whose server verified before the first
 * byte was written — mutual RA-TLS for the service listener, one-way for the challenge listener.
 *
 * @module
 */
import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KeywardError } from "@keyward/attest/errors";
import { verifiedOnce } from "@keyward/channels/http";
import {
  connectRaTls,
  createPeerVerifier,
  type PeerVerifier,
  type VerifyCertificate,
} from "@keyward/channels/tls";
import type { Attester } from "@keyward/platform/enclave";
import { issueRaTlsCertificate, type RaTlsCredential } from "@keyward/platform/ratls";

/** A service address: `"host:port"` or its parts. */
export type ServerAddress = string | { readonly host: string; readonly port: number };

/** `host:port` (IPv6 in brackets) → its parts. @throws ERR_USAGE */
export function addressOf(server: ServerAddress): { host: string; port: number } {
  if (typeof server !== "string") return { host: server.host, port: server.port };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(server);
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535)
    throw new KeywardError(
      "ERR_USAGE",
      `a server address is host:port, not ${JSON.stringify(server.slice(0, 100))}`,
    );
  return { host: m[1] ?? m[2] ?? "", port };
}

/** How long one RA-TLS credential is used before a fresh quote replaces it (milliseconds). */
const CREDENTIAL_LIFETIME_MS = 10 * 60_000;
const credentials = new WeakMap<
  Attester,
  { readonly made: number; readonly credential: Promise<RaTlsCredential> }
>();

/**
 * The app's RA-TLS credential from `attester`: one quote per attester, reused for ten minutes (a
 * long-running app's evidence stays fresh: a TCB recovery or a new quoting enclave shows in it).
 */
export function credentialOf(attester: Attester): Promise<RaTlsCredential> {
  const now = performance.now();
  const cached = credentials.get(attester);
  if (cached !== undefined && now - cached.made < CREDENTIAL_LIFETIME_MS) return cached.credential;
  const credential = issueRaTlsCertificate({ attester });
  // A failed issue is not kept: the next call tries again.
  credential.catch(() => {
    if (credentials.get(attester)?.credential === credential) credentials.delete(attester);
  });
  credentials.set(attester, { made: now, credential });
  return credential;
}

const verifiers = new WeakMap<VerifyCertificate, PeerVerifier>();

/** The peer verifier (with its cache of verdicts) for `verify`. */
export function peerVerifierOf(verify: VerifyCertificate): PeerVerifier {
  let v = verifiers.get(verify);
  if (v === undefined) {
    v = createPeerVerifier({ verify });
    verifiers.set(verify, v);
  }
  return v;
}

/** A gRPC transport on one verified connection, and how to close that connection. */
export interface Connection {
  readonly transport: Transport;
  close(): void;
}

/**
 * A transport to `server` whose evidence `verifyServer` accepted before anything was written;
 * mutual when `credential` is given. The caller closes it (an open connection keeps a process
 * alive).
 * @throws ERR_IO (cannot connect: transient), the verification's codes (never retried)
 */
export async function connectTo(
  server: ServerAddress,
  verifyServer: VerifyCertificate,
  credential?: RaTlsCredential,
): Promise<Connection> {
  const { host, port } = addressOf(server);
  const { socket } = await connectRaTls({
    host,
    port,
    alpn: ["h2"],
    peerVerifier: peerVerifierOf(verifyServer),
    ...(credential === undefined ? {} : { credential }),
  });
  const transport = createGrpcTransport({
    baseUrl: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    nodeOptions: { createConnection: verifiedOnce(socket) },
  });
  return { transport, close: () => socket.destroy() };
}

/** Runs `use` on a fresh connection, closing it afterwards whatever happens. */
export async function withConnection<T>(
  server: ServerAddress,
  verifyServer: VerifyCertificate,
  credential: RaTlsCredential | undefined,
  use: (transport: Transport) => Promise<T>,
): Promise<T> {
  const c = await connectTo(server, verifyServer, credential);
  try {
    return await use(c.transport);
  } finally {
    c.close();
  }
}
