/**
 * The operator's client of `OtpAdminService` on the Admin listener: mutual TLS with a certificate
 * from `keyward admin init`, trusting only the admin CA (as the Admin service's client does).
 * Per-call headers carry a step-up code: `client.createAccount(req, { headers: { "keyward-otp": "ops:123456" } })`.
 *
 * @module
 */
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { OtpAdminService } from "@keyward/proto/keyward/v1";

/** A client of the OTP admin service. */
export type OtpAdminClient = Client<typeof OtpAdminService>;

/**
 * A client for the Admin listener at `host:port` with the operator's PEM credentials; `headers`
 * go with every call and are read at each call, so a caller may add a step-up code later.
 */
export function connectOtpAdmin(
  credentials: { readonly caPem: string; readonly certPem: string; readonly keyPem: string },
  target: { readonly host: string; readonly port: number },
  headers: Readonly<Record<string, string>> = {},
): OtpAdminClient {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  return createClient(
    OtpAdminService,
    createGrpcTransport({
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
    }),
  );
}
