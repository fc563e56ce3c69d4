/**
 * Starting a service's HTTP/2 server on a host and port (0 = a free port), and closing it.
 *
 * @module
 */
import type { Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";

/** A listening server, its port, and a close that also ends open sessions. */
export interface Listening {
  readonly server: Http2SecureServer;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `listen` and resolves once bound (rejects if the port cannot be taken). */
export async function listenOn(
  server: Http2SecureServer,
  listen: { readonly host: string; readonly port: number },
): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllSessions?: () => void }).closeAllSessions?.();
      }),
  };
}
