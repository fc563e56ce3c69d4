/**
 * Gramine's secret-provisioning client as `secret_prov_attest.c` speaks the protocol, for tests:
 * TLS with the server checked against a CA chain and the dialled host name
 * (`SECRET_PROVISION_CA_CHAIN_PATH`, `mbedtls_ssl_set_hostname`), the enclave's RA-TLS certificate
 * as the client certificate, the 35-byte request with its NUL, then the 37-byte response header,
 * the secret's length (u32, network byte order) and exactly that many bytes. Anything else (a
 * close, a reset, a short answer) is a refusal. It uses no Keyward code but the two constants.
 */
import { connect } from "node:tls";
import { SECRET_PROVISION_REQUEST, SECRET_PROVISION_RESPONSE } from "@keyward/channels/gramine";

/** The secret, or a refusal (the server closed without answering). */
export type SecretProvisionOutcome = { readonly secret: Uint8Array } | { readonly refused: true };

/** One `secret_provision_start` against `host:port`. */
export function gramineSecretProvision(options: {
  readonly host: string;
  readonly port: number;
  readonly servername: string;
  readonly ca: string;
  readonly credential: { readonly certificatePem: string; readonly keyPem: string };
  readonly request?: Uint8Array;
}): Promise<SecretProvisionOutcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: options.host,
      port: options.port,
      servername: options.servername,
      ca: options.ca,
      cert: options.credential.certificatePem,
      key: options.credential.keyPem,
      minVersion: "TLSv1.2",
    });
    const chunks: Buffer[] = [];
    socket.once("secureConnect", () => socket.write(options.request ?? SECRET_PROVISION_REQUEST));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.once("close", () => {
      const got = Buffer.concat(chunks);
      if (got.length === 0) return resolve({ refused: true });
      const header = got.subarray(0, SECRET_PROVISION_RESPONSE.byteLength);
      if (!header.equals(SECRET_PROVISION_RESPONSE)) return reject(new Error("wrong response header"));
      const length = got.readUInt32BE(SECRET_PROVISION_RESPONSE.byteLength);
      const secret = got.subarray(SECRET_PROVISION_RESPONSE.byteLength + 4);
      if (secret.length !== length) return reject(new Error(`${secret.length} bytes, length said ${length}`));
      resolve({ secret: new Uint8Array(secret) });
    });
    socket.once("error", () => undefined); // a reset is a refusal: "close" follows
  });
}
