/**
 * Starting a service's server (HTTP/2, HTTP/1.1 or TLS) on a host and port (0 = a free port), and
 * closing it, open connections included.
 *
 * @module
 */
import type { AddressInfo, Server } from "node:net";

/** A listening server, its port, and a close that also ends open sessions and connections. */
export interface Listening {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `listen` and resolves once bound (rejects if the port cannot be taken). */
export async function listenOn(
  server: Server,
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
        // HTTP/2 servers end their sessions, HTTP/1.1 servers their connections; a plain TLS
        // server's connections end when their protocol does.
        (server as unknown as { closeAllSessions?: () => void }).closeAllSessions?.();
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
