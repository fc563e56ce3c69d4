/**
 * Health, readiness and Prometheus metrics on a plain HTTP listener (bind it to localhost or an
 * operations network): `/healthz` (process up), `/readyz` (every readiness check answers: the
 * store, and each feature's), `/metrics` (text format 0.0.4).
 *
 * @module
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.ts";

/** A named readiness check: resolves when ready, rejects (with the reason) when not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/** Starts the ops listener; `/readyz` answers 503 naming the checks that failed. */
export async function startOpsServer(
  metrics: Metrics,
  checks: readonly ReadinessCheck[],
  listen: { readonly host: string; readonly port: number },
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    if (req.url === "/readyz") {
      void Promise.allSettled(checks.map((c) => c.check())).then((results) => {
        const failed = checks.filter((_, i) => results[i]?.status === "rejected").map((c) => c.name);
        if (failed.length === 0) res.writeHead(200, { "content-type": "text/plain" }).end("ready\n");
        else res.writeHead(503, { "content-type": "text/plain" }).end(`not ready: ${failed.join(", ")}\n`);
      });
      return;
    }
    if (req.url === "/metrics") {
      metrics.render().then(
        (text) => res.writeHead(200, { "content-type": metrics.contentType }).end(text),
        () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n"),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, resolve);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
