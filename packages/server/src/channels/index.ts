export {
  createGramineSecretProvisionServer,
  type GramineSecretProvisionOptions,
  SECRET_PROVISION_REQUEST,
  SECRET_PROVISION_RESPONSE,
} from "./gramine-secret-prov.ts";
export type { LeanUnaryOptions } from "./grpc.ts";
export { createRaTlsGrpcServer, createRaTlsGrpcTransport, peerIdentityKey } from "./grpc.ts";
export type { UnaryImpl, UnaryRoutes } from "./grpc-unary.ts";
export { isLeanUnary, serveLeanUnary, unaryRoutes } from "./grpc-unary.ts";
export {
  connectRaTlsHttp2,
  createRaTlsHttp2Server,
  peerOfRequest,
  type RaTlsHttp2ServerOptions,
  verifiedOnce,
} from "./http2.ts";
export { createRaTlsHttpsServer, raTlsHttpsRequest } from "./https.ts";
export {
  createPeerVerifier,
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
} from "./tls.ts";
