/**
 * Starts the contract server: HTTPS (or HTTP) on a free loopback port, an admin user in
 * `system:masters`, the namespaces a fresh cluster has (`default`, `kube-system`, `kube-public`,
 * each with its `default` service account), and kubeconfigs that point `@kubernetes/client-node`
 * or `kubectl` at it unchanged.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import { Api } from "./api.ts";
import { Controllers } from "./controllers.ts";
import { handle, type RequestRecord } from "./http.ts";
import { Kubelet, type KubeletMode } from "./kubelet.ts";
import type { UserInfo } from "./rbac.ts";
import { RESOURCES, type ResourceType } from "./resources.ts";
import { Store } from "./store.ts";
import { servingCredentials } from "./tls.ts";

/** Options of {@link startKubeApiServer}. */
export interface KubeApiServerOptions {
  /** Serve HTTPS with a fresh CA (default) or plain HTTP. */
  readonly tls?: boolean;
  /** How pods progress (default `manual`: only when the test drives the kubelet). */
  readonly kubelet?: KubeletMode;
  /** Namespaces to create at start, besides `default`, `kube-system` and `kube-public`. */
  readonly namespaces?: readonly string[];
  /** Changes kept for watches to resume from (older resourceVersions get 410). Default 10000. */
  readonly maxHistory?: number;
  /**
   * Answer a watch from a compacted resourceVersion with HTTP 410 and a Status body instead of a 200
   * stream carrying one ERROR event (API servers do either, depending on whether the watch cache
   * serves the request; clients must handle both).
   */
  readonly watchExpiredAsHttpStatus?: boolean;
  /** The clock (default: the system clock). */
  readonly now?: () => Date;
}

/** A running contract server. */
export interface KubeApiServer {
  /** `https://127.0.0.1:PORT` (or http). */
  readonly url: string;
  /** The CA that signed the serving certificate (undefined over HTTP). */
  readonly caPem: string | undefined;
  /** A bearer token of a `system:masters` member. */
  readonly adminToken: string;
  /** The verbs, for setting up state without HTTP (as the admin user). */
  readonly api: Api;
  /** Drives pod status as a scheduler and kubelet would. */
  readonly kubelet: Kubelet;
  /** Every request served, oldest first (at most 10000). */
  readonly requests: readonly RequestRecord[];
  /** A new bearer token for a user with the given name and groups. */
  addUser(name: string, groups?: readonly string[]): string;
  /** Kubeconfig YAML for the given token (default: the admin's). */
  kubeconfig(token?: string, namespace?: string): string;
  /** Writes a kubeconfig file (mode 0600) into `dir`; returns its path. */
  writeKubeconfig(dir: string, token?: string, namespace?: string): string;
  /** Resolves when controllers and the automatic kubelet have nothing left to do. */
  settle(): Promise<void>;
  /** Forgets all change history: watches from an older resourceVersion get 410 Expired. */
  compact(): void;
  /** Ends every open watch stream cleanly, as the API server does when a watch times out. */
  closeWatches(): void;
  /** Sends a BOOKMARK to every watch that allowed them. */
  bookmark(): void;
  /** The resource type of a plural name (`pods`, `deployments`, ...). */
  resource(plural: string): ResourceType;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** Starts a contract server on 127.0.0.1 and a free port. */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const now = options.now ?? (() => new Date());
  const store = new Store(options.maxHistory ?? 10_000);
  const controllers = new Controllers(() => api, now);
  const api: Api = new Api(store, now, () => controllers.schedule());
  const kubelet = new Kubelet(api, now, options.kubelet ?? "manual");
  const adminToken = randomBytes(24).toString("base64url");
  const users = new Map<string, UserInfo>([
    [adminToken, { name: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] }],
  ]);
  const admin = users.get(adminToken) as UserInfo;
  const write = { user: admin, dryRun: false, fieldValidation: "Strict" as const };
  const namespaces = RESOURCES.find((t) => t.plural === "namespaces") as ResourceType;
  for (const name of ["default", "kube-system", "kube-public", ...(options.namespaces ?? [])])
    api.create(namespaces, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name } }, write);

  const watches = new Set<ServerResponse>();
  const requests: RequestRecord[] = [];
  const ctx = {
    api,
    users,
    now,
    watches,
    requests,
    watchExpiredAsHttpStatus: options.watchExpiredAsHttpStatus ?? false,
  };
  const tls = options.tls ?? true;
  const creds = tls ? servingCredentials(now()) : undefined;
  const listener = (req: Parameters<typeof handle>[1], res: ServerResponse) => void handle(ctx, req, res);
  const server: Server =
    creds === undefined
      ? createHttpServer(listener)
      : createHttpsServer({ cert: creds.certPem, key: creds.keyPem }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const kubeconfig = (token = adminToken, namespace = "default"): string =>
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "keyward-contract",
          cluster: {
            server: url,
            ...(creds === undefined
              ? {}
              : { "certificate-authority-data": Buffer.from(creds.caPem).toString("base64") }),
          },
        },
      ],
      users: [{ name: "user", user: { token } }],
      contexts: [
        { name: "keyward-contract", context: { cluster: "keyward-contract", user: "user", namespace } },
      ],
      "current-context": "keyward-contract",
    });

  return {
    url,
    caPem: creds?.caPem,
    adminToken,
    api,
    kubelet,
    requests,
    addUser(name, groups = []) {
      const token = randomBytes(24).toString("base64url");
      users.set(token, { name, groups: [...groups, "system:authenticated"] });
      return token;
    },
    kubeconfig,
    writeKubeconfig(dir, token, namespace) {
      const path = join(dir, `kubeconfig-${randomBytes(4).toString("hex")}.yaml`);
      writeFileSync(path, kubeconfig(token, namespace), { mode: 0o600, flag: "wx" });
      return path;
    },
    async settle() {
      for (;;) {
        await controllers.settle();
        await kubelet.settle();
        await new Promise((r) => setImmediate(r));
        await controllers.settle();
        await kubelet.settle();
        // Quiet once a full turn passes with nothing scheduled by either.
        const before = store.resourceVersion;
        await new Promise((r) => setImmediate(r));
        if (store.resourceVersion === before) return;
      }
    },
    compact: () => store.compact(),
    closeWatches() {
      for (const res of watches) res.end();
      watches.clear();
    },
    bookmark: () => store.bookmark(),
    resource(plural) {
      const t = RESOURCES.find((r) => r.plural === plural);
      if (t === undefined) throw new Error(`the contract server does not serve ${plural}`);
      return t;
    },
    async close() {
      controllers.stop();
      kubelet.stop();
      for (const res of watches) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
