/**
 * The part of HashiCorp Vault's HTTP API the Vault source uses, as its API reference documents it:
 *
 * - `GET /v1/sys/internal/ui/mounts/PATH` — the preflight the Vault CLI makes before `vault kv get`:
 *   `data.path` is the mount holding PATH, `data.options.version` is `"2"` for KV version 2 and
 *   absent, null, `""` or `"1"` for version 1. A 404 means a Vault older than the endpoint (the CLI
 *   then assumes version 1); a 403 means the token may not use PATH — or nothing is mounted there,
 *   which Vault deliberately answers the same way.
 * - KV v1 `GET /v1/MOUNT/PATH` → `data` is the secret's fields; KV v2 `GET /v1/MOUNT/data/PATH` →
 *   `data.data` is the fields and `data.metadata.version` the version (a deleted or destroyed
 *   version answers 404 with `data.metadata.deletion_time` / `destroyed`).
 * - `GET /v1/auth/token/lookup-self` → `data.ttl` (seconds left, 0 for a token that never
 *   expires), `data.expire_time`, `data.renewable`.
 *
 * Every answer is read with a size bound and a timeout; the token travels only in `X-Vault-Token`
 * and is never put in a message.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";

/** A KV secret as read: its fields and version (0 for KV v1, which has none). */
export interface KvSecret {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly kvVersion: 1 | 2;
}

/** A mount as the preflight describes it. */
export interface KvMount {
  /** The mount path with its trailing slash (`occlum/1/`). */
  readonly path: string;
  readonly kvVersion: 1 | 2;
}

/** What lookup-self says of a token. */
export interface TokenLookup {
  /** Seconds left; 0 for a token without expiry. */
  readonly ttlSeconds: number;
  readonly expireTime: string | null;
  readonly renewable: boolean;
}

const MAX_ANSWER_BYTES = 1024 * 1024;
const TIMEOUT_MS = 5000;

/** The secret path's segments, refusing empty, `.` and `..` segments (a URL must not climb out of the mount). */
export function pathSegments(path: string): string[] {
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s === "." || s === ".."))
    throw new KeywardError(
      "ERR_SERVICE_SOURCE_UNSUPPORTED",
      "a Vault path has no empty, '.' or '..' segments",
    );
  return segments;
}

const urlOf = (addr: string, segments: readonly string[]) =>
  `${addr.replace(/\/+$/, "")}/v1/${segments.map(encodeURIComponent).join("/")}`;

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function get(addr: string, segments: readonly string[], token: string): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(urlOf(addr, segments), {
      headers: { "X-Vault-Token": token },
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (cause) {
    throw new KeywardError("ERR_VAULT_UNAVAILABLE", "Vault could not be reached", { cause });
  }
  const text = await boundedText(res);
  if (text.trim() === "") return { status: res.status, body: undefined };
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch (cause) {
    if (res.status === 403 || res.status === 404) return { status: res.status, body: undefined };
    throw new KeywardError("ERR_VAULT_UNAVAILABLE", "Vault answered with malformed JSON", { cause });
  }
}

async function boundedText(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await reader.cancel();
        throw new KeywardError("ERR_VAULT_UNAVAILABLE", "Vault's answer is larger than 1 MiB");
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof KeywardError) throw cause;
    throw new KeywardError("ERR_VAULT_UNAVAILABLE", "Vault's answer was cut off", { cause });
  }
  return Buffer.concat(chunks).toString("utf8");
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function unexpected(status: number, what: string): KeywardError {
  return new KeywardError(
    "ERR_VAULT_UNAVAILABLE",
    status === 503 ? `Vault is sealed or in standby (${what})` : `Vault answered HTTP ${status} (${what})`,
  );
}

/**
 * The mount holding `path` and its KV version, as the Vault CLI's preflight finds them.
 * @throws ERR_VAULT_FORBIDDEN (403), ERR_VAULT_UNAVAILABLE
 */
export async function kvMountOf(addr: string, path: string, token: string): Promise<KvMount | undefined> {
  const a = await get(addr, ["sys", "internal", "ui", "mounts", ...pathSegments(path)], token);
  // An old Vault without the endpoint: the CLI then reads the path as KV version 1.
  if (a.status === 404) return undefined;
  if (a.status === 403)
    throw new KeywardError(
      "ERR_VAULT_FORBIDDEN",
      `Vault refused the preflight for "${path}": the app token is invalid or expired, or may not read there, or nothing is mounted there`,
    );
  if (a.status !== 200) throw unexpected(a.status, "mount preflight");
  const data = record(record(a.body)?.data);
  const mount = data?.path;
  if (typeof mount !== "string" || mount === "")
    throw new KeywardError("ERR_VAULT_UNAVAILABLE", "Vault's mount preflight has no data.path");
  const version = record(data?.options)?.version;
  return { path: mount.endsWith("/") ? mount : `${mount}/`, kvVersion: version === "2" ? 2 : 1 };
}

/**
 * Reads the KV secret at `path` (mount included), detecting the KV version per mount.
 * @throws ERR_VAULT_FORBIDDEN (403), ERR_VAULT_NOT_FOUND (404, deleted or destroyed version), ERR_VAULT_UNAVAILABLE
 */
export async function readKv(
  addr: string,
  path: string,
  token: string,
  mountOf: (path: string) => Promise<KvMount | undefined> = (p) => kvMountOf(addr, p, token),
): Promise<KvSecret> {
  const segments = pathSegments(path);
  const mount = await mountOf(path);
  const kvVersion = mount?.kvVersion ?? 1;
  let request = segments;
  if (mount !== undefined && kvVersion === 2) {
    const mountSegments = mount.path.replace(/\/$/, "").split("/");
    const inMount = segments.slice(mountSegments.length);
    if (inMount.length === 0 || segments.slice(0, mountSegments.length).join("/") !== mountSegments.join("/"))
      throw new KeywardError("ERR_VAULT_NOT_FOUND", `"${path}" names a mount, not a secret in it`);
    request = [...mountSegments, "data", ...inMount];
  }
  const a = await get(addr, request, token);
  if (a.status === 403)
    throw new KeywardError(
      "ERR_VAULT_FORBIDDEN",
      `Vault refused to read "${path}": the policy's app token lacks read access there (or is invalid or expired)`,
    );
  const data = record(record(a.body)?.data);
  if (a.status === 404) {
    const metadata = record(data?.metadata);
    const gone =
      metadata?.destroyed === true
        ? "was destroyed"
        : typeof metadata?.deletion_time === "string" && metadata.deletion_time !== ""
          ? "was deleted"
          : undefined;
    throw new KeywardError(
      "ERR_VAULT_NOT_FOUND",
      gone === undefined ? `Vault has no secret at "${path}"` : `the current version of "${path}" ${gone}`,
    );
  }
  if (a.status !== 200) throw unexpected(a.status, "read");
  const fields = kvVersion === 2 ? record(data?.data) : data;
  if (fields === undefined)
    throw new KeywardError("ERR_VAULT_UNAVAILABLE", `Vault's answer for "${path}" has no data`);
  const version = kvVersion === 2 ? Number(record(data?.metadata)?.version ?? 0) : 0;
  return { fields, version: Number.isSafeInteger(version) && version >= 0 ? version : 0, kvVersion };
}

/**
 * What Vault says of `token` (`GET /v1/auth/token/lookup-self`).
 * @throws ERR_VAULT_FORBIDDEN (the token is invalid, expired or revoked), ERR_VAULT_UNAVAILABLE
 */
export async function lookupSelf(addr: string, token: string): Promise<TokenLookup> {
  const a = await get(addr, ["auth", "token", "lookup-self"], token);
  if (a.status === 403)
    throw new KeywardError(
      "ERR_VAULT_FORBIDDEN",
      "Vault does not know the token: invalid, expired or revoked",
    );
  if (a.status !== 200) throw unexpected(a.status, "token lookup");
  const data = record(record(a.body)?.data);
  const ttl = data?.ttl;
  if (typeof ttl !== "number" || !Number.isFinite(ttl))
    throw new KeywardError("ERR_VAULT_UNAVAILABLE", "Vault's token lookup has no data.ttl");
  const expire = data?.expire_time;
  return {
    ttlSeconds: Math.max(0, Math.floor(ttl)),
    expireTime: typeof expire === "string" ? expire : null,
    renewable: data?.renewable === true,
  };
}
