/**
 * The REST surface ("API Concepts": resource URIs, verbs, watches): routes
 * `/api/v1/...` and `/apis/GROUP/VERSION/...` to the verbs, authenticates bearer tokens, authorizes
 * with RBAC, and writes JSON answers, `Status` objects for failures, `Warning` headers, and watch
 * streams (one JSON event per line on a chunked 200 answer; a watch that cannot start — 410 Expired
 * — gets a single ERROR event carrying the Status, as the API server sends it).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import { type Api, listOf } from "./api.ts";
import type { FieldValidation } from "./decode.ts";
import { deleteObject, deleteOptionsOf } from "./delete.ts";
import { authorize, type UserInfo } from "./rbac.ts";
import { apiGroupListDocument, apiResourceListDocument, apiVersionsDocument } from "./resources.ts";
import { matcher, routeOf, verbOf } from "./route.ts";
import { badRequest, forbidden, methodNotAllowed, StatusError, unauthorized } from "./status.ts";
import { startWatch } from "./watch-stream.ts";

const MAX_BODY = 3 * 1024 * 1024;

/** One request as the server saw it (for tests to assert on what a client asked). */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly user: string | undefined;
  readonly code: number;
}

/** What the handler needs from the server. */
export interface HttpContext {
  readonly api: Api;
  readonly users: ReadonlyMap<string, UserInfo>;
  readonly now: () => Date;
  readonly watches: Set<ServerResponse>;
  readonly requests: RequestRecord[];
  readonly watchExpiredAsHttpStatus: boolean;
}

/** Handles one request. Never throws: failures are written as Status answers. */
export async function handle(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://x");
  const method = req.method ?? "GET";
  let user: UserInfo | undefined;
  const record = (code: number) => {
    if (ctx.requests.length >= 10_000) ctx.requests.shift();
    ctx.requests.push({ method, path: url.pathname, query: url.search, user: user?.name, code });
  };
  try {
    const open = publicDocument(url.pathname);
    if (open !== undefined) return send(res, 200, open, [], record);
    user = authenticate(ctx, req);
    const discovery = discoveryDocument(url.pathname);
    if (discovery !== undefined) return send(res, 200, discovery, [], record);
    const route = routeOf(url.pathname);
    const q = url.searchParams;
    const watch = method === "GET" && (q.get("watch") === "1" || q.get("watch") === "true");
    const verb = verbOf(method, route, watch);
    const denied = authorize(ctx.api.store, user, {
      verb,
      t: route.t,
      namespace: route.namespace,
      ...(route.name === undefined ? {} : { name: route.name }),
      ...(route.subresource === undefined ? {} : { subresource: route.subresource }),
    });
    if (denied !== undefined) throw forbidden(route.t, route.name, denied);
    if (watch) return startWatch(ctx.api, ctx.watches, route, q, res, record, ctx.watchExpiredAsHttpStatus);
    const raw = method === "GET" ? "" : await readBody(req);
    const options = {
      user,
      dryRun: q.get("dryRun") === "All",
      fieldValidation: fieldValidationOf(q.get("fieldValidation")),
    };
    const sub = route.subresource === "status" ? ("status" as const) : undefined;
    switch (verb) {
      case "get":
        return send(res, 200, ctx.api.get(route.t, route.namespace, route.name as string), [], record);
      case "list": {
        if (q.has("continue") && q.get("continue") !== "")
          throw badRequest("the provided continue parameter is not recognized by this server");
        const matches = matcher(route.t, q);
        const items = ctx.api.store.list(route.t, route.namespace).filter(matches);
        return send(res, 200, listOf(route.t, items, ctx.api.store.resourceVersion), [], record);
      }
      case "create": {
        const r = ctx.api.create(route.t, route.namespace, bodyOf(req, raw), options);
        return send(res, r.code, r.object, r.warnings, record);
      }
      case "update": {
        const r = ctx.api.update(
          route.t,
          route.namespace,
          route.name as string,
          bodyOf(req, raw),
          options,
          sub,
        );
        return send(res, r.code, r.object, r.warnings, record);
      }
      case "patch": {
        const r = ctx.api.patch(
          route.t,
          route.namespace,
          route.name as string,
          req.headers["content-type"] ?? "",
          raw,
          {
            ...options,
            ...(q.has("fieldManager") ? { fieldManager: q.get("fieldManager") as string } : {}),
            ...(q.has("force") ? { force: q.get("force") === "true" } : {}),
          },
          sub,
        );
        return send(res, r.code, r.object, r.warnings, record);
      }
      case "delete": {
        const r = deleteObject(
          ctx.api,
          route.t,
          route.namespace,
          route.name as string,
          deleteOptionsOf(q, raw === "" ? undefined : JSON.parse(raw)),
          ctx.now(),
        );
        return send(res, r.code, r.object, [], record);
      }
      case "deletecollection": {
        const options = deleteOptionsOf(q, raw === "" ? undefined : JSON.parse(raw));
        const items = ctx.api.store.list(route.t, route.namespace).filter(matcher(route.t, q));
        const deleted = items.map(
          (i) =>
            deleteObject(ctx.api, route.t, route.namespace, i.metadata.name as string, options, ctx.now())
              .object,
        );
        return send(res, 200, listOf(route.t, deleted, ctx.api.store.resourceVersion), [], record);
      }
    }
    throw methodNotAllowed(method);
  } catch (e) {
    const status =
      e instanceof StatusError
        ? e
        : e instanceof SyntaxError
          ? badRequest(e.message)
          : new StatusError(500, "InternalError", `Internal error occurred: ${(e as Error).message}`);
    send(res, status.status.code, status.status, [], record);
  }
}

// Readable without credentials, as system:public-info-viewer grants in a cluster.
function publicDocument(path: string): unknown {
  if (path === "/version")
    return { major: "1", minor: "35", gitVersion: "v1.35.0-keyward-contract", platform: "linux/amd64" };
  if (path === "/healthz" || path === "/readyz" || path === "/livez") return "ok";
  return undefined;
}

function discoveryDocument(path: string): unknown {
  if (path === "/api" || path === "/api/") return apiVersionsDocument();
  if (path === "/apis" || path === "/apis/") return apiGroupListDocument();
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/?$/.exec(path);
  if (m === null) return undefined;
  const doc =
    m[1] !== undefined
      ? apiResourceListDocument("", "v1")
      : apiResourceListDocument(m[2] as string, m[3] as string);
  if (doc === undefined)
    throw new StatusError(404, "NotFound", "the server could not find the requested resource");
  return doc;
}

function authenticate(ctx: HttpContext, req: IncomingMessage): UserInfo {
  const header = req.headers.authorization ?? "";
  const m = /^Bearer (\S+)$/.exec(header);
  const user = m === null ? undefined : ctx.users.get(m[1] as string);
  if (user === undefined) throw unauthorized();
  return user;
}

function fieldValidationOf(v: string | null): FieldValidation {
  if (v === null || v === "") return "Warn";
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw badRequest(
    `fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`,
  );
}

function bodyOf(req: IncomingMessage, raw: string): unknown {
  const type = (req.headers["content-type"] ?? "application/json").split(";")[0]?.trim();
  try {
    return type === "application/yaml" ? parseYaml(raw) : JSON.parse(raw);
  } catch (e) {
    throw badRequest(`error decoding body: ${(e as Error).message}`);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new StatusError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(
  res: ServerResponse,
  code: number,
  body: unknown,
  warnings: readonly string[],
  record: (code: number) => void,
): void {
  record(code);
  const headers: Record<string, string | string[]> = { "content-type": "application/json" };
  if (warnings.length > 0) headers.warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}
