/**
 * Connecting to an enclave with TLS pinned to exactly the bound certificate. The pin decides, not
 * the name: the address may be an IP or a DNS name, and no CA or host name is consulted.
 *
 * The certificate is checked twice, both before a single application byte is written:
 * - during the handshake: the pinned certificate is the connection's only trust anchor, and
 *   `checkServerIdentity` accepts only a peer certificate byte-identical to it (so a different
 *   certificate — even one for the same name — fails the handshake);
 * - after it: the certificate the enclave presented is compared with the pin once more.
 * A session is never resumed (resumption would skip the certificate).
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { connect, type TLSSocket } from "node:tls";
import { KeywardError } from "@keyward/attest/errors";
import { toPem } from "@keyward/attest/x509";

const mismatch = (why: string, cause?: unknown) =>
  new KeywardError(
    "ERR_LICENSING_BINDING_MISMATCH",
    `enclave: ${why}; nothing was sent`,
    cause === undefined ? {} : { cause },
  );

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/**
 * Opens TLS to `host:port` pinned to `certificate` (DER).
 * @throws ERR_LICENSING_BINDING_MISMATCH when the enclave presents another certificate; ERR_IO when unreachable
 */
export function connectPinned(
  host: string,
  port: number,
  certificate: Uint8Array,
  options: { readonly timeoutMs?: number; readonly alpn?: readonly string[] } = {},
): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    let pinFailed = false;
    const socket = connect({
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ca: [toPem(certificate, "CERTIFICATE")],
      rejectUnauthorized: true,
      checkServerIdentity: (_name, cert) => {
        if (cert.raw === undefined || !same(new Uint8Array(cert.raw), certificate)) {
          pinFailed = true;
          return new Error("the certificate is not the bound one");
        }
        return undefined;
      },
      minVersion: "TLSv1.2",
      ...(options.alpn === undefined ? {} : { ALPNProtocols: [...options.alpn] }),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new KeywardError("ERR_IO", `enclave ${host}:${port}: handshake timed out`));
    }, options.timeoutMs ?? 10_000);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const presented = socket.getPeerCertificate(false)?.raw;
      if (
        presented === undefined ||
        !same(new Uint8Array(presented), certificate) ||
        socket.isSessionReused()
      ) {
        socket.destroy();
        return reject(mismatch("it presented another certificate than the bound one"));
      }
      resolve(socket);
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      socket.destroy();
      // Without the pinned certificate the chain does not verify either: any certificate error is a mismatch.
      const code = (e as NodeJS.ErrnoException).code ?? "";
      if (pinFailed || /CERT|SELF_SIGNED|ERR_TLS_CERT_ALTNAME/.test(code) || /certificate/i.test(e.message))
        return reject(mismatch("it presented another certificate than the bound one", e));
      reject(new KeywardError("ERR_IO", `enclave ${host}:${port}: cannot connect`, { cause: e }));
    });
  });
}
