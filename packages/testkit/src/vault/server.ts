/**
 * An in-process HashiCorp Vault contract server for tests (no Vault binary can be installed here),
 * answering the endpoints Keyward uses as Vault's API reference documents them:
 *
 * - `GET /v1/sys/internal/ui/mounts/PATH`: the mount's details with `path` and `options.version`;
 *   403 with "preflight capability check returned 403…" when nothing is mounted there or the
 *   token has no capability inside the mount; 404 when built `withoutPreflight` (an old Vault).
 * - KV v1: `GET|POST|PUT|DELETE /v1/MOUNT/PATH` (`data` holds the fields).
 * - KV v2: `GET /v1/MOUNT/data/PATH[?version=N]` (`data.data`, `data.metadata`; a deleted or
 *   destroyed version answers 404 with its metadata), `POST|PUT /v1/MOUNT/data/PATH` with
 *   `{"data": {...}}`; any other path of a v2 mount answers 404 with Vault's "Invalid path for a
 *   versioned K/V secrets engine" warning.
 * - `GET /v1/auth/token/lookup-self`.
 *
 * Every other request, a missing, unknown, revoked or expired token, or a missing capability
 * answers `403 {"errors":["permission denied"]}`; a sealed server answers 503.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type KvMountState, VaultState, type VaultToken } from "./state.ts";

/** A request as the server saw it (the token's presence only, never its value). */
export interface VaultRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly hadToken: boolean;
}

/** A running contract server. */
export interface VaultContractServer {
  /** `http://127.0.0.1:PORT`. */
  readonly addr: string;
  readonly state: VaultState;
  readonly requests: VaultRequestRecord[];
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
const denied = (res: ServerResponse) => json(res, 403, { errors: ["permission denied"] });
const iso = (ms: number | undefined) => (ms === undefined ? "" : new Date(ms).toISOString());

function envelope(data: unknown, warnings: string[] | null = null) {
  return {
    request_id: randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings,
    auth: null,
  };
}

async function body(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the contract server on 127.0.0.1 and a free port. */
export async function startVaultContract(
  options: { readonly now?: () => number } = {},
): Promise<VaultContractServer> {
  const state = new VaultState(options.now ?? Date.now);
  const requests: VaultRequestRecord[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://vault");
    const tokenId = req.headers["x-vault-token"];
    const path = decodeURIComponent(url.pathname);
    requests.push({ method: req.method ?? "GET", path, hadToken: typeof tokenId === "string" });
    if (state.sealed) return json(res, 503, { errors: ["Vault is sealed"] });
    const token = state.token(typeof tokenId === "string" ? tokenId : undefined);
    if (token === undefined || !path.startsWith("/v1/")) return denied(res);
    const p = path.slice(4);
    void route(state, token, req, res, p, url.searchParams).catch(() =>
      json(res, 500, { errors: ["internal error"] }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    addr: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(
  state: VaultState,
  token: VaultToken,
  req: IncomingMessage,
  res: ServerResponse,
  p: string,
  query: URLSearchParams,
): Promise<void> {
  if (p === "auth/token/lookup-self" && req.method === "GET") return lookupSelf(state, token, res);
  const preflight = "sys/internal/ui/mounts/";
  if (p.startsWith(preflight) && req.method === "GET") {
    if (state.withoutPreflight) return json(res, 404, { errors: [] });
    const target = p.slice(preflight.length);
    const m = state.mountOf(target);
    if (m === undefined || !state.seesMount(token, m))
      return json(res, 403, {
        errors: [
          `preflight capability check returned 403, please ensure client's policies grant access to path "${target.endsWith("/") ? target : `${target}/`}"`,
        ],
      });
    return json(
      res,
      200,
      envelope({
        accessor: m.accessor,
        config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
        description: "key/value secret storage",
        external_entropy_access: false,
        local: false,
        options: m.version === 2 ? { version: "2" } : null,
        path: m.path,
        seal_wrap: false,
        type: "kv",
        uuid: m.uuid,
      }),
    );
  }
  const m = state.mountOf(p);
  if (m === undefined) return denied(res);
  const inMount = p.slice(m.path.length);
  if (m.version === 1) return kv1(state, token, m, inMount, req, res, p);
  return kv2(state, token, m, inMount, req, res, query);
}

function lookupSelf(state: VaultState, t: VaultToken, res: ServerResponse) {
  const leftMs = t.ttlSeconds === 0 ? 0 : t.issuedMs + t.ttlSeconds * 1000 - state.now();
  json(
    res,
    200,
    envelope({
      accessor: t.accessor,
      creation_time: Math.floor(t.issuedMs / 1000),
      creation_ttl: t.ttlSeconds,
      display_name: t.root ? "root" : "token",
      entity_id: "",
      expire_time: t.ttlSeconds === 0 ? null : new Date(t.issuedMs + t.ttlSeconds * 1000).toISOString(),
      explicit_max_ttl: 0,
      id: t.id,
      issue_time: new Date(t.issuedMs).toISOString(),
      meta: null,
      num_uses: 0,
      orphan: false,
      path: t.root ? "auth/token/root" : "auth/token/create",
      policies: t.policies,
      renewable: t.renewable,
      ttl: t.ttlSeconds === 0 ? 0 : Math.max(0, Math.floor(leftMs / 1000)),
      type: "service",
    }),
  );
}

async function kv1(
  state: VaultState,
  token: VaultToken,
  m: KvMountState,
  key: string,
  req: IncomingMessage,
  res: ServerResponse,
  full: string,
) {
  if (req.method === "GET") {
    if (!state.allows(token, full, "read")) return denied(res);
    const v = m.v1.get(key);
    if (v === undefined) return json(res, 404, { errors: [] });
    return json(res, 200, { ...envelope(v), lease_duration: 2764800 });
  }
  if (req.method === "POST" || req.method === "PUT") {
    if (!state.allows(token, full, m.v1.has(key) ? "update" : "create")) return denied(res);
    const b = await body(req);
    if (b === undefined) return json(res, 400, { errors: ["failed to parse JSON input"] });
    m.v1.set(key, b);
    return void res.writeHead(204).end();
  }
  if (req.method === "DELETE") {
    if (!state.allows(token, full, "delete")) return denied(res);
    m.v1.delete(key);
    return void res.writeHead(204).end();
  }
  return json(res, 405, { errors: ["unsupported operation"] });
}

async function kv2(
  state: VaultState,
  token: VaultToken,
  m: KvMountState,
  inMount: string,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
) {
  if (!inMount.startsWith("data/"))
    return json(
      res,
      404,
      envelope(null, [
        "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.",
      ]),
    );
  const key = inMount.slice(5);
  const full = `${m.path}data/${key}`;
  const versions = m.v2.get(key) ?? [];
  if (req.method === "GET") {
    if (!state.allows(token, full, "read")) return denied(res);
    const asked = query.has("version") ? Number(query.get("version")) : 0;
    const n = asked > 0 ? asked : versions.length;
    const v = versions[n - 1];
    if (v === undefined) return json(res, 404, { errors: [] });
    const metadata = {
      created_time: iso(v.createdMs),
      custom_metadata: null,
      deletion_time: iso(v.deletedMs),
      destroyed: v.destroyed,
      version: n,
    };
    if (v.deletedMs !== undefined || v.destroyed) return json(res, 404, envelope({ data: null, metadata }));
    return json(res, 200, envelope({ data: v.data, metadata }));
  }
  if (req.method === "POST" || req.method === "PUT") {
    if (!state.allows(token, full, versions.length > 0 ? "update" : "create")) return denied(res);
    const b = await body(req);
    const data = b?.data;
    if (typeof data !== "object" || data === null || Array.isArray(data))
      return json(res, 400, { errors: ["no data provided"] });
    const version = state.put(`${m.path}${key}`, data as Record<string, unknown>);
    return json(
      res,
      200,
      envelope({
        created_time: iso(state.now()),
        custom_metadata: null,
        deletion_time: "",
        destroyed: false,
        version,
      }),
    );
  }
  return json(res, 405, { errors: ["unsupported operation"] });
}

export { VaultState };
