/**
 * The secrets feature: GetSecrets over mutual RA-TLS, the challenge–response path, the `secrets`
 * grant and the secret sources (built-in store, JSON files, Vault KV v2).
 *
 * @module
 */
import type { Feature } from "../../kernel/feature.ts";
import { challengeService } from "./challenge.ts";
import { getSecretsService } from "./get-secrets.ts";
import { SECRETS } from "./grants.ts";
import { SOURCES } from "./sources/index.ts";

export const secretsFeature: Feature = {
  name: "secrets",
  options: SOURCES.flatMap((s) => s.options ?? []),
  grants: [SECRETS, ...SOURCES.flatMap((s) => s.grants ?? [])],
  start: (ctx) => ({ services: [getSecretsService(ctx), challengeService(ctx)] }),
};
