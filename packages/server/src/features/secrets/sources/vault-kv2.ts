/**
 * Vault KV v2 source: `vault:MOUNT/PATH#FIELD` is read as `GET {addr}/v1/MOUNT/data/PATH` with the
 * policy's `app_token` in `X-Vault-Token`; the value is `data.data[FIELD]`, the version
 * `data.metadata.version` (the documented KV v2 read response).
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { defineGrant, grantOf } from "../../../kernel/grants.ts";
import { defineOption, parsers } from "../../../ops/options.ts";
import type { SecretSource } from "./source.ts";

/** Vault's address for `vault:` grants (absent: such grants are refused). */
export const VAULT_ADDR = defineOption<string | undefined>({
  key: "vaultAddr",
  flag: "vault-addr",
  env: "KEYWARD_VAULT_ADDR",
  kind: "string",
  doc: "Vault's address for vault: grants",
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

export const vaultKv2Source: SecretSource = {
  scheme: "vault",
  options: [VAULT_ADDR],
  grants: [APP_TOKEN],
  read(ref, { policy, options }) {
    const addr = options.get(VAULT_ADDR);
    if (addr === undefined)
      throw new KeywardError(
        "ERR_SERVICE_SOURCE_UNSUPPORTED",
        "no Vault address is configured (--vault-addr)",
      );
    return readVaultKv2(addr, ref, grantOf(policy, APP_TOKEN));
  },
};

/**
 * Reads `vault:MOUNT/PATH#FIELD` from the KV v2 engine at `addr` with `token`.
 * @throws ERR_SERVICE_SOURCE_UNSUPPORTED (bad reference, no token), ERR_SERVICE_SECRET_NOT_FOUND, ERR_SERVICE_DENIED (403)
 */
export async function readVaultKv2(
  addr: string,
  ref: string,
  token: string | undefined,
): Promise<{ value: Uint8Array; version: number }> {
  const m = /^vault:([^/#]+)\/([^#]+)#(.+)$/.exec(ref);
  if (m === null)
    throw new KeywardError("ERR_SERVICE_SOURCE_UNSUPPORTED", "Vault references are vault:MOUNT/PATH#FIELD");
  if (token === undefined)
    throw new KeywardError("ERR_SERVICE_SOURCE_UNSUPPORTED", "the policy has no app_token for Vault");
  const [, mount = "", path = "", field = ""] = m;
  const url = `${addr.replace(/\/$/, "")}/v1/${encodeURIComponent(mount)}/data/${path.split("/").map(encodeURIComponent).join("/")}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { "X-Vault-Token": token }, signal: AbortSignal.timeout(5000) });
  } catch (cause) {
    throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "Vault unreachable", { cause });
  }
  if (res.status === 404) throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "Vault has no such secret");
  if (res.status === 403) throw new KeywardError("ERR_SERVICE_DENIED", "Vault refused the policy's token");
  if (!res.ok) throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", `Vault answered HTTP ${res.status}`);
  let body: { data?: { data?: Record<string, unknown>; metadata?: { version?: number } } };
  try {
    body = (await res.json()) as typeof body;
  } catch (cause) {
    throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "Vault answered with malformed JSON", { cause });
  }
  const v = body.data?.data?.[field];
  if (typeof v !== "string")
    throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "no such field in the Vault secret");
  return { value: new TextEncoder().encode(v), version: Number(body.data?.metadata?.version ?? 0) };
}
