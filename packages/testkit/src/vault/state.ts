/**
 * The state a Vault contract server holds, modelled on Vault's documented behaviour: KV secrets
 * engines of version 1 (one value per path) and version 2 (versions with created, deleted and
 * destroyed states), and tokens with ACL policies (exact paths and `*` globs with capabilities), a
 * TTL and an expiry. The clock is injected so that tests can expire tokens.
 *
 * @module
 */
import { randomBytes, randomUUID } from "node:crypto";

/** A capability of a Vault ACL rule. */
export type Capability = "create" | "read" | "update" | "delete" | "list" | "sudo" | "deny";

/** One ACL rule: `path` is exact, or a prefix when it ends in `*`. */
export interface AclRule {
  readonly path: string;
  readonly capabilities: readonly Capability[];
}

/** A token as Vault's token store keeps it. */
export interface VaultToken {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly rules: readonly AclRule[];
  readonly root: boolean;
  /** Issued at (ms since the epoch, the server's clock). */
  readonly issuedMs: number;
  /** TTL in seconds; 0: never expires. */
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  revoked: boolean;
}

/** One version of a KV v2 secret. */
export interface KvVersion {
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdMs: number;
  deletedMs: number | undefined;
  destroyed: boolean;
}

/** A KV mount. */
export interface KvMountState {
  /** With its trailing slash: `secret/`, `occlum/1/`. */
  readonly path: string;
  readonly version: 1 | 2;
  readonly accessor: string;
  readonly uuid: string;
  readonly v1: Map<string, Readonly<Record<string, unknown>>>;
  readonly v2: Map<string, KvVersion[]>;
}

/** The whole state, and operations tests use to set it up. */
export class VaultState {
  readonly mounts = new Map<string, KvMountState>();
  readonly tokens = new Map<string, VaultToken>();
  sealed = false;
  /** A Vault before `sys/internal/ui/mounts/PATH` existed: the preflight answers 404. */
  withoutPreflight = false;
  readonly now: () => number;
  constructor(now: () => number) {
    this.now = now;
  }

  /** `vault secrets enable -path=PATH -version=V kv`. */
  enableKv(path: string, version: 1 | 2): void {
    const p = path.replace(/^\/+|\/+$/g, "");
    this.mounts.set(`${p}/`, {
      path: `${p}/`,
      version,
      accessor: `kv_${randomBytes(4).toString("hex")}`,
      uuid: randomUUID(),
      v1: new Map(),
      v2: new Map(),
    });
  }

  /** The mount whose path is the longest prefix of `path` (as Vault's router matches). */
  mountOf(path: string): KvMountState | undefined {
    const p = path.endsWith("/") ? path : `${path}/`;
    let best: KvMountState | undefined;
    for (const m of this.mounts.values())
      if (p.startsWith(m.path) && (best === undefined || m.path.length > best.path.length)) best = m;
    return best;
  }

  /** `vault kv put PATH k=v…` on either KV version; returns the new version (0 for KV v1). */
  put(path: string, data: Readonly<Record<string, unknown>>): number {
    const m = this.mountOf(path);
    if (m === undefined) throw new Error(`no mount for ${path}`);
    const key = path.slice(m.path.length);
    if (m.version === 1) {
      m.v1.set(key, { ...data });
      return 0;
    }
    const versions = m.v2.get(key) ?? [];
    versions.push({ data: { ...data }, createdMs: this.now(), deletedMs: undefined, destroyed: false });
    m.v2.set(key, versions);
    return versions.length;
  }

  /** `vault kv delete` (v2: soft-deletes the latest version; v1: removes the value). */
  delete(path: string): void {
    const m = this.mountOf(path);
    if (m === undefined) return;
    const key = path.slice(m.path.length);
    if (m.version === 1) m.v1.delete(key);
    else {
      const latest = m.v2.get(key)?.at(-1);
      if (latest !== undefined) latest.deletedMs = this.now();
    }
  }

  /** `vault kv destroy -versions=N` (v2). */
  destroy(path: string, version: number): void {
    const m = this.mountOf(path);
    const v = m?.v2.get(path.slice(m.path.length))?.[version - 1];
    if (v !== undefined) v.destroyed = true;
  }

  /** `vault token create -policy=… -ttl=…` with the policies' rules; returns the token. */
  createToken(options: {
    readonly rules: readonly AclRule[];
    readonly policies?: readonly string[];
    readonly ttlSeconds?: number;
    readonly renewable?: boolean;
    readonly root?: boolean;
  }): string {
    const id = `hvs.${randomBytes(18).toString("base64url")}`;
    this.tokens.set(id, {
      id,
      accessor: randomBytes(12).toString("base64url"),
      policies: options.policies ?? (options.root === true ? ["root"] : ["default"]),
      rules: options.rules,
      root: options.root === true,
      issuedMs: this.now(),
      ttlSeconds: options.ttlSeconds ?? 0,
      renewable: options.renewable ?? options.ttlSeconds !== undefined,
      revoked: false,
    });
    return id;
  }

  /** The live token `id`, or undefined when unknown, revoked or expired. */
  token(id: string | undefined): VaultToken | undefined {
    const t = id === undefined ? undefined : this.tokens.get(id);
    if (t === undefined || t.revoked) return undefined;
    if (t.ttlSeconds > 0 && this.now() >= t.issuedMs + t.ttlSeconds * 1000) return undefined;
    return t;
  }

  /** Whether `token` has `capability` on `path` (deny wins; the longest matching rule decides). */
  allows(token: VaultToken, path: string, capability: Capability): boolean {
    if (token.root) return true;
    const rule = this.ruleFor(token, path);
    return (
      rule !== undefined && !rule.capabilities.includes("deny") && rule.capabilities.includes(capability)
    );
  }

  /**
   * Whether `token` may see the mount `m` in the preflight: Vault answers for a token with any
   * capability on some path inside the mount.
   */
  seesMount(token: VaultToken, m: KvMountState): boolean {
    if (token.root) return true;
    return token.rules.some((r) => {
      if (r.capabilities.length === 0 || r.capabilities.includes("deny")) return false;
      const prefix = r.path.endsWith("*") ? r.path.slice(0, -1) : r.path;
      return prefix.startsWith(m.path) || m.path.startsWith(prefix);
    });
  }

  private ruleFor(token: VaultToken, path: string): AclRule | undefined {
    let best: AclRule | undefined;
    let bestLength = -1;
    for (const r of token.rules) {
      const glob = r.path.endsWith("*");
      const prefix = glob ? r.path.slice(0, -1) : r.path;
      const matches = glob ? path.startsWith(prefix) : path === prefix;
      const length = glob ? prefix.length : prefix.length + 1; // an exact path beats a glob of its length
      if (matches && length > bestLength) {
        best = r;
        bestLength = length;
      }
    }
    return best;
  }
}
