/**
 * The registered secret sources, one line each; the service-wide default backend for references
 * without a scheme; and the lookup of a reference's source.
 *
 * @module
 */
import { defineOption, type OptionValues, parsers } from "../../../ops/options.ts";
import { jsonFileSource } from "./json-file.ts";
import type { SecretSource, SourceContext, SourcedValue } from "./source.ts";
import { storeSource } from "./store.ts";
import { vaultSource } from "./vault.ts";

/** Every source. */
export const SOURCES: readonly SecretSource[] = [storeSource, jsonFileSource, vaultSource];

/**
 * Where a reference without a scheme (the seed format's bare `occlum/1/image_key`) is read: the
 * built-in store, or Vault (`--vault-addr`, the policy's `app_token`).
 */
export const SECRET_BACKEND = defineOption({
  key: "secretBackend",
  flag: "secret-backend",
  env: "KEYWARD_SECRET_BACKEND",
  kind: "string",
  doc: "where references without a scheme are read: store (built-in) or vault",
  defaultDoc: "store",
  parse: parsers.oneOf(["store", "vault"] as const),
  fallback: () => "store" as const,
});

/** The source `ref` is read from under `options` (its scheme's, else the default backend). */
export function sourceOf(ref: string, options: OptionValues): SecretSource {
  const named = SOURCES.find((s) => ref.startsWith(`${s.scheme}:`));
  if (named !== undefined) return named;
  return options.get(SECRET_BACKEND) === "vault" ? vaultSource : storeSource;
}

/**
 * Reads a granted reference from the source its scheme names (`vault:…`, `file:…`, `store:…`);
 * any other reference from the default backend (`--secret-backend`, the built-in store unless set).
 * @throws the source's error (ERR_SERVICE_SECRET_NOT_FOUND, ERR_VAULT_*, ERR_SERVICE_SOURCE_UNSUPPORTED, …)
 */
export function readGrant(ref: string, ctx: SourceContext): Promise<SourcedValue> {
  return sourceOf(ref, ctx.options).read(ref, ctx);
}
