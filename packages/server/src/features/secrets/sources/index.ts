/**
 * The registered secret sources, one line each, and the lookup of a reference's source.
 *
 * @module
 */
import { jsonFileSource } from "./json-file.ts";
import type { SecretSource, SourceContext, SourcedValue } from "./source.ts";
import { storeSource } from "./store.ts";
import { vaultKv2Source } from "./vault-kv2.ts";

/** Every source; a reference without a scheme reads the built-in store. */
export const SOURCES: readonly SecretSource[] = [storeSource, jsonFileSource, vaultKv2Source];

/**
 * Reads a granted reference from the source its scheme names (`vault:…`, `file:…`, `store:…`);
 * any other reference is a name in the built-in store (the seed format's plain names).
 * @throws the source's error (ERR_SERVICE_SECRET_NOT_FOUND, ERR_SERVICE_SOURCE_UNSUPPORTED, …)
 */
export function readGrant(ref: string, ctx: SourceContext): Promise<SourcedValue> {
  const source = SOURCES.find((s) => ref.startsWith(`${s.scheme}:`)) ?? storeSource;
  return source.read(ref, ctx);
}
