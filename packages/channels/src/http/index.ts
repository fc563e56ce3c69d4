/**
 * RA-TLS under HTTPS and HTTP/2: servers that hand requests to the application only from verified
 * peers, and clients bound to a verified connection.
 *
 * @module
 */
export {
  connectRaTlsHttp2,
  createRaTlsHttp2Server,
  peerOfRequest,
  type RaTlsHttp2ServerOptions,
  verifiedOnce,
} from "./http2.ts";
export { createRaTlsHttpsServer, raTlsHttpsRequest } from "./https.ts";
