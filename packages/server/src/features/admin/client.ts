/**
 * The operator's side of the Admin listener: a gRPC client over mutual TLS with a certificate from
 * `keyward admin init`, trusting only the admin CA.
 *
 * @module
 */
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "@keyward/proto/keyward/v1";
import type { AdminClientCredentials } from "./credentials.ts";

export type AdminClient = Client<typeof AdminService>;

/** A client for the Admin listener at `host:port`; `headers` go with every call (e.g. a second factor). */
export function connectAdmin(
  credentials: AdminClientCredentials,
  target: { readonly host: string; readonly port: number },
  headers: Readonly<Record<string, string>> = {},
): AdminClient {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  const transport = createGrpcTransport({
    baseUrl: `https://${host}:${target.port}`,
    nodeOptions: {
      ca: credentials.caPem,
      cert: credentials.certPem,
      key: credentials.keyPem,
      minVersion: "TLSv1.3",
    },
    interceptors: [
      (next) => (req) => {
        for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
        return next(req);
      },
    ],
  });
  return createClient(AdminService, transport);
}
