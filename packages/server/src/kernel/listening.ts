/**
 * Starting a service's server (HTTP/2, HTTP/1.1 or TLS) on a host and port (0 = a free port), and
 * closing it, open connections included.
 *
 * @module
 */
import { type AddressInfo, Server as NetServer, type Server } from "node:net";

/** A listening server, its port, and a close that also ends open sessions and connections. */
export interface Listening {
  readonly server: Server;
  readonly port: number;
  /**
   * Stops taking new connections; open sessions and connections go on (draining). Optional: a
   * feature's own listener may not offer it (it is then closed at the end of the drain).
   */
  stopAccepting?(): void;
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
  // 'close' is emitted once the server stopped listening and every connection ended.
  const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
  // HTTP/2 sessions, to end them gracefully (GOAWAY: open streams finish and their answers are
  // written before the session ends), then for good if a peer holds one open.
  const sessions = new Set<{ close(): void; destroy(): void; once(e: "close", f: () => void): unknown }>();
  server.on(
    "session",
    (session: { close(): void; destroy(): void; once(e: "close", f: () => void): unknown }) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    },
  );
  let stopped = false;
  const stopAccepting = () => {
    if (stopped) return;
    stopped = true;
    // net.Server's close only: an HTTP/2 server's own close also ends its sessions (GOAWAY), and a
    // client whose session is gone cannot be told "retry elsewhere"; while draining, calls that
    // arrive on open sessions are refused with UNAVAILABLE instead (kernel/drain.ts).
    NetServer.prototype.close.call(server);
  };
  return {
    server,
    port: (server.address() as AddressInfo).port,
    stopAccepting,
    close: () => {
      stopAccepting();
      server.close();
      // HTTP/2 servers end their sessions, HTTP/1.1 servers their connections; a plain TLS
      // server's connections end when their protocol does.
      for (const s of sessions) s.close();
      const force = setTimeout(() => {
        for (const s of sessions) s.destroy();
      }, 2_000);
      force.unref();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      return closed.finally(() => clearTimeout(force));
    },
  };
}
