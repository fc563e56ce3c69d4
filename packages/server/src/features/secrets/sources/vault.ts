/**
 * The Vault source: `vault:PATH[#FIELD]` — or a bare `PATH[#FIELD]` when the service's default
 * backend is Vault (`--secret-backend vault`), so that a seed-format policy naming
 * `occlum/1/image_key` reads the seed deployment's Vault unchanged. PATH includes the mount; the
 * mount and its KV version (1 or 2) are found per path as the Vault CLI finds them
 * (vault-api.ts), and remembered for a minute. The value is the string field FIELD of the secret,
 * or — FIELD omitted — its only field (the seed writes `vault kv put occlum/1/image_key key=…`).
 * Reads use the granting policy's `app_token` (never logged).
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { defineGrant, grantOf, type ServicePolicy } from "../../../kernel/grants.ts";
import type { ServiceLogger } from "../../../ops/logs.ts";
import { defineOption, type OptionValues, parsers } from "../../../ops/options.ts";
import type { SecretSource } from "./source.ts";
import { type KvMount, kvMountOf, lookupSelf, pathSegments, readKv } from "./vault-api.ts";

/** Vault's address for `vault:` grants (absent: such grants are refused). */
export const VAULT_ADDR = defineOption<string | undefined>({
  key: "vaultAddr",
  flag: "vault-addr",
  env: "KEYWARD_VAULT_ADDR",
  kind: "string",
  doc: "Vault's address for vault: grants (and bare paths with --secret-backend vault)",
  defaultDoc: "(vault: grants refused)",
  parse: parsers.httpUrl,
  fallback: () => undefined,
});

/** The policy's Vault token (the seed format's `app_token`), used to read its `vault:` grants. Never logged. */
export const APP_TOKEN = defineGrant<string | undefined>({
  field: "appToken",
  aliases: ["app_token"],
  absent: undefined,
  secret: true,
  parse(raw, path, problems) {
    if (typeof raw === "string" && raw.length > 0) return raw;
    problems.push(`${path}: a non-empty string`);
    return undefined;
  },
});

/** A Vault reference split: the path (mount included) and the field, when named. */
export interface VaultReference {
  readonly path: string;
  readonly field: string | undefined;
}

/**
 * `vault:PATH#FIELD`, `vault:PATH`, or the same without the scheme.
 * @throws ERR_SERVICE_SOURCE_UNSUPPORTED
 */
export function parseVaultReference(ref: string): VaultReference {
  const body = ref.startsWith("vault:") ? ref.slice(6) : ref;
  const hash = body.indexOf("#");
  const path = (hash < 0 ? body : body.slice(0, hash)).replace(/^\/+/, "");
  const field = hash < 0 ? undefined : body.slice(hash + 1);
  if (path === "" || field === "" || !path.includes("/"))
    throw new KeywardError(
      "ERR_SERVICE_SOURCE_UNSUPPORTED",
      "Vault references are vault:MOUNT/PATH or vault:MOUNT/PATH#FIELD",
    );
  return { path, field };
}

const MOUNT_TTL_MS = 60_000;
const mounts = new Map<string, { mount: KvMount | undefined; until: number }>();

async function mountOf(addr: string, path: string, token: string): Promise<KvMount | undefined> {
  const key = `${addr}\n${path}`;
  const hit = mounts.get(key);
  if (hit !== undefined && hit.until > Date.now()) return hit.mount;
  const mount = await kvMountOf(addr, path, token);
  if (mounts.size >= 1024) mounts.clear();
  mounts.set(key, { mount, until: Date.now() + MOUNT_TTL_MS });
  return mount;
}

/**
 * Reads `ref` from the Vault at `addr` with `token`.
 * @throws ERR_SERVICE_SOURCE_UNSUPPORTED (bad reference, no token), ERR_VAULT_FORBIDDEN, ERR_VAULT_NOT_FOUND, ERR_VAULT_UNAVAILABLE
 */
export async function readVault(
  addr: string,
  ref: string,
  token: string | undefined,
): Promise<{ value: Uint8Array; version: number }> {
  const { path, field } = parseVaultReference(ref);
  if (token === undefined)
    throw new KeywardError("ERR_SERVICE_SOURCE_UNSUPPORTED", "the policy has no app_token for Vault");
  const secret = await readKv(addr, path, token, (p) => mountOf(addr, p, token));
  const names = Object.keys(secret.fields);
  const name = field ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined)
    throw new KeywardError(
      "ERR_VAULT_NOT_FOUND",
      `the Vault secret "${path}" has ${names.length} fields: name one (${path}#FIELD)`,
    );
  const v = Object.hasOwn(secret.fields, name) ? secret.fields[name] : undefined;
  if (typeof v !== "string")
    throw new KeywardError("ERR_VAULT_NOT_FOUND", `the Vault secret "${path}" has no string field "${name}"`);
  return { value: new TextEncoder().encode(v), version: secret.version };
}

/**
 * Why `ref` cannot be granted: no Vault address is configured, or the reference is malformed or
 * climbs out of its mount. (Every read goes to the configured address: a reference is a path,
 * encoded segment by segment, and redirects are refused, so no policy reaches another server.)
 */
export function confineVaultReference(ref: string, options: OptionValues): string | undefined {
  if (options.get(VAULT_ADDR) === undefined)
    return "vault: grants are refused: the service has no Vault address (--vault-addr)";
  try {
    pathSegments(parseVaultReference(ref).path);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

export const vaultSource: SecretSource = {
  scheme: "vault",
  options: [VAULT_ADDR],
  grants: [APP_TOKEN],
  confine: confineVaultReference,
  read(ref, { policy, options }) {
    const addr = options.get(VAULT_ADDR);
    if (addr === undefined)
      throw new KeywardError(
        "ERR_SERVICE_SOURCE_UNSUPPORTED",
        "no Vault address is configured (--vault-addr)",
      );
    return readVault(addr, ref, grantOf(policy, APP_TOKEN));
  },
};

/** A token closer to its expiry than this is reported at start. */
export const TOKEN_EXPIRY_WARNING_SECONDS = 72 * 3600;

/**
 * At start: looks up each app token of `policies` that reads Vault (`readsVault` says which
 * references do) and logs when one is invalid or expired (error) or expires within 72 hours
 * (warning). Each lookup is bounded by Vault's timeout; nothing here stops the service.
 */
export async function checkAppTokens(
  addr: string,
  policies: readonly ServicePolicy[],
  readsVault: (ref: string) => boolean,
  logger: ServiceLogger,
  lookup: typeof lookupSelf = lookupSelf,
): Promise<void> {
  const wanted = policies.filter((p) => {
    const secrets = p.grants.secrets;
    const refs = typeof secrets === "object" && secrets !== null ? Object.values(secrets) : [];
    return refs.some((r) => typeof r === "string" && readsVault(r));
  });
  await Promise.all(
    wanted.map(async (p) => {
      const token = grantOf(p, APP_TOKEN);
      if (token === undefined) {
        logger.error(
          { event: "vault.token.missing", policy: p.id },
          `policy ${p.id} reads Vault but has no app_token`,
        );
        return;
      }
      try {
        const t = await lookup(addr, token);
        if (t.ttlSeconds === 0)
          logger.info({ event: "vault.token.ok", policy: p.id }, `policy ${p.id}: app token does not expire`);
        else if (t.ttlSeconds < TOKEN_EXPIRY_WARNING_SECONDS)
          logger.warn(
            { event: "vault.token.expiring", policy: p.id, ttlSeconds: t.ttlSeconds, renewable: t.renewable },
            `policy ${p.id}: app token expires in ${formatSeconds(t.ttlSeconds)}${t.expireTime === null ? "" : ` (${t.expireTime})`}`,
          );
        else
          logger.info(
            { event: "vault.token.ok", policy: p.id, ttlSeconds: t.ttlSeconds },
            `policy ${p.id}: app token valid for ${formatSeconds(t.ttlSeconds)}`,
          );
      } catch (e) {
        const code = e instanceof KeywardError ? e.code : "ERR_INTERNAL";
        logger.error(
          {
            event: code === "ERR_VAULT_FORBIDDEN" ? "vault.token.invalid" : "vault.token.unchecked",
            policy: p.id,
            code,
          },
          code === "ERR_VAULT_FORBIDDEN"
            ? `policy ${p.id}: Vault refuses its app token (expired, revoked or invalid)`
            : `policy ${p.id}: app token could not be checked: ${(e as Error).message}`,
        );
      }
    }),
  );
}

function formatSeconds(s: number): string {
  if (s >= 86400) return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.max(1, Math.floor(s / 60))} min`;
}
