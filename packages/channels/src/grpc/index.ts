/**
 * gRPC (Connect-ES) over RA-TLS, with the lean unary gRPC path for hot unary methods.
 *
 * @module
 */
export {
  createRaTlsGrpcServer,
  createRaTlsGrpcTransport,
  type LeanUnaryOptions,
  peerIdentityKey,
  requestOriginKey,
} from "./grpc.ts";
export { isLeanUnary, serveLeanUnary, type UnaryImpl, type UnaryRoutes, unaryRoutes } from "./grpc-unary.ts";
