/**
 * RA-TLS over node:tls (one-way and mutual) and the peer-verification cache.
 *
 * @module
 */
export {
  createPeerVerifier,
  type PeerVerification,
  type PeerVerifier,
  type PeerVerifierOptions,
  type VerifyCertificate,
} from "./peer-verifier.ts";
export {
  type ChannelLogger,
  connectRaTls,
  createRaTlsServer,
  peerIdentityOf,
  type RaTlsConnectOptions,
  type RaTlsServerOptions,
  type TlsCredential,
} from "./ratls-socket.ts";
