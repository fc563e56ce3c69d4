/**
 * A bare HTTP(S) client for the contract server's own tests, where status codes, headers and
 * watch streams must be seen exactly as sent (a generated client hides them).
 *
 * @module
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { KubeApiServer } from "./server.ts";

/** One answer. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  readonly body: unknown;
}

/** Sends one request and reads the whole answer (JSON when it parses). */
export async function call(
  server: KubeApiServer,
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string; contentType?: string } = {},
): Promise<RawAnswer> {
  const res = await open(server, method, path, body, options);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.statusCode ?? 0, headers: res.headers, body: parsed };
}

/** Opens a watch and collects its events until it ends or `until` says stop. */
export async function watchEvents(
  server: KubeApiServer,
  path: string,
  until: (events: readonly { type: string; object: Record<string, unknown> }[]) => boolean,
  options: { token?: string } = {},
): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const res = await open(server, "GET", path, undefined, options);
  const events: { type: string; object: Record<string, unknown> }[] = [];
  let buffer = "";
  for await (const chunk of res) {
    buffer += (chunk as Buffer).toString("utf8");
    let nl = buffer.indexOf("\n");
    while (nl !== -1) {
      events.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
      if (until(events)) {
        res.destroy();
        return events;
      }
    }
  }
  return events;
}

/** Resolves once the server has started serving a watch whose path and query match. */
export async function watchStarted(
  server: KubeApiServer,
  match: (pathAndQuery: string) => boolean,
): Promise<void> {
  const seen = server.requests.length;
  for (;;) {
    if (server.requests.slice(seen).some((r) => r.query.includes("watch") && match(r.path + r.query))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function open(
  server: KubeApiServer,
  method: string,
  path: string,
  body: unknown,
  options: { token?: string; contentType?: string },
): Promise<IncomingMessage> {
  const url = new URL(path, server.url);
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? server.adminToken}` };
  if (payload !== undefined) {
    headers["content-type"] = options.contentType ?? "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers, ...(server.caPem === undefined ? {} : { ca: server.caPem }) },
      resolve,
    );
    req.on("error", reject);
    req.end(payload);
  });
}
