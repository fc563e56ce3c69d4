/**
 * Gramine secret provisioning, server side, wire-compatible with `secret_prov_attest.c`: over
 * mutual RA-TLS, the client (the enclave) sends the 35-byte request
 * "SECRET_PROVISION_RA_TLS_REQUEST_V1\0"; the server answers the 37-byte header
 * "SECRET_PROVISION_RA_TLS_RESPONSE_V1:\0", the secret's length as a big-endian u32, and the
 * secret. A Gramine app configured with SECRET_PROVISION_SERVERS fetches its secret this way.
 *
 * @module
 */
import type { Server, TLSSocket } from "node:tls";
import { isKeywardError } from "@keyward/attest/errors";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import type { PeerVerifier } from "../tls/peer-verifier.ts";
import { type ChannelLogger, createRaTlsServer, type TlsCredential } from "../tls/ratls-socket.ts";

/** The request, with its C string terminator. */
export const SECRET_PROVISION_REQUEST: Uint8Array = new TextEncoder().encode(
  "SECRET_PROVISION_RA_TLS_REQUEST_V1\0",
);
/** The response header, with its C string terminator. */
export const SECRET_PROVISION_RESPONSE: Uint8Array = new TextEncoder().encode(
  "SECRET_PROVISION_RA_TLS_RESPONSE_V1:\0",
);

/** Options of {@link createGramineSecretProvisionServer}. */
export interface GramineSecretProvisionOptions {
  /** The server's own (ordinary, CA-issued) certificate: Gramine clients check it against their CA chain. */
  readonly credential: TlsCredential;
  /** Verifies the enclave's RA-TLS client certificate (evidence and policy). */
  readonly peerVerifier: PeerVerifier;
  /** The secret for a verified peer, or undefined to refuse it. */
  readonly secretFor: (peer: RaTlsVerdict) => Uint8Array | undefined | Promise<Uint8Array | undefined>;
  readonly logger?: ChannelLogger & { info?(event: Record<string, unknown>): void };
  readonly timeoutMs?: number;
}

/** A TLS server speaking Gramine's secret-provisioning protocol to verified enclaves. */
export function createGramineSecretProvisionServer(options: GramineSecretProvisionOptions): Server {
  return createRaTlsServer(
    {
      credential: options.credential,
      peerVerifier: options.peerVerifier,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    },
    (socket, peer) => {
      if (peer === undefined) {
        socket.destroy();
        return;
      }
      serve(socket, peer, options).catch(() => socket.destroy());
    },
  );
}

async function serve(
  socket: TLSSocket,
  peer: RaTlsVerdict,
  options: GramineSecretProvisionOptions,
): Promise<void> {
  socket.setTimeout(options.timeoutMs ?? 10_000, () => socket.destroy());
  const request = await readExactly(socket, SECRET_PROVISION_REQUEST.byteLength);
  if (Buffer.compare(request, SECRET_PROVISION_REQUEST) !== 0) {
    options.logger?.warn({ event: "secret_prov_bad_request" });
    socket.destroy();
    return;
  }
  let secret: Uint8Array | undefined;
  try {
    secret = await options.secretFor(peer);
  } catch (e) {
    options.logger?.warn({ event: "secret_prov_failed", code: isKeywardError(e) ? e.code : "ERR_INTERNAL" });
  }
  if (secret === undefined || secret.byteLength > 0x7fffffff) {
    options.logger?.warn({ event: "secret_prov_denied", mrEnclave: mrEnclaveOf(peer) });
    socket.destroy();
    return;
  }
  const length = Buffer.alloc(4);
  length.writeUInt32BE(secret.byteLength);
  socket.end(Buffer.concat([SECRET_PROVISION_RESPONSE, length, secret]));
  options.logger?.info?.({
    event: "secret_prov_released",
    mrEnclave: mrEnclaveOf(peer),
    bytes: secret.byteLength,
  });
}

function readExactly(socket: TLSSocket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= n) {
        socket.off("data", onData);
        // Bytes beyond the request are not part of the protocol.
        if (got.length > n) reject(new Error("unexpected bytes after the request"));
        else resolve(got);
      }
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error("closed before the request")));
  });
}

function mrEnclaveOf(peer: RaTlsVerdict): string {
  return peer.verified.claims.tee === "sgx"
    ? Buffer.from(peer.verified.claims.mrEnclave).toString("hex")
    : "";
}
