/**
 * Health, readiness and Prometheus metrics on a plain HTTP listener (bind it to localhost or an
 * operations network): `/healthz` (process up), `/readyz` (store answers), `/metrics` (text format 0.0.4).
 *
 * @module
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Store } from "./store.ts";

/** Counters by name and label set. */
export class Metrics {
  readonly #counters = new Map<string, Map<string, number>>();
  readonly #help = new Map<string, string>();

  inc(name: string, labels: Readonly<Record<string, string>> = {}, help = ""): void {
    if (!this.#help.has(name)) this.#help.set(name, help);
    const key = Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
      .join(",");
    const series = this.#counters.get(name) ?? new Map<string, number>();
    series.set(key, (series.get(key) ?? 0) + 1);
    this.#counters.set(name, series);
  }

  render(): string {
    const out: string[] = [];
    for (const [name, series] of this.#counters) {
      out.push(`# HELP ${name} ${this.#help.get(name) ?? ""}`, `# TYPE ${name} counter`);
      for (const [labels, v] of series) out.push(`${name}${labels === "" ? "" : `{${labels}}`} ${v}`);
    }
    return `${out.join("\n")}\n`;
  }
}

export async function startOpsServer(
  metrics: Metrics,
  store: Store,
  listen: { host: string; port: number },
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    if (req.url === "/readyz") {
      store
        .readAudit(1, 1)
        .then(() => res.writeHead(200, { "content-type": "text/plain" }).end("ready\n"))
        .catch(() => res.writeHead(503, { "content-type": "text/plain" }).end("store unavailable\n"));
      return;
    }
    if (req.url === "/metrics")
      return void res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render());
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(listen.port, listen.host, resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
