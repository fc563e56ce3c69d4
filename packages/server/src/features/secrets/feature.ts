/**
 * The secrets feature: GetSecrets over mutual RA-TLS, the challenge–response path, the `secrets`
 * grant and the secret sources (built-in store, JSON files, Vault KV v1 and v2). At start, the
 * app tokens of policies that read Vault are looked up, and one that is invalid, expired or about
 * to expire is reported in the log.
 *
 * @module
 */
import type { Feature, FeatureContext } from "../../kernel/feature.ts";
import { challengeService } from "./challenge.ts";
import { CHALLENGE_MIGRATIONS } from "./challenge-store.ts";
import { getSecretsService } from "./get-secrets.ts";
import { SECRETS } from "./grants.ts";
import { release } from "./release.ts";
import { SECRET_BACKEND, SOURCES, sourceOf } from "./sources/index.ts";
import { checkAppTokens, VAULT_ADDR, vaultSource } from "./sources/vault.ts";

async function checkVault(ctx: FeatureContext): Promise<void> {
  const addr = ctx.config.options.get(VAULT_ADDR);
  if (addr === undefined) return;
  await checkAppTokens(
    addr,
    ctx.policies.current(),
    (ref) => sourceOf(ref, ctx.config.options) === vaultSource,
    ctx.logger,
  );
}

export const secretsFeature: Feature = {
  name: "secrets",
  migrations: CHALLENGE_MIGRATIONS,
  options: [SECRET_BACKEND, ...SOURCES.flatMap((s) => s.options ?? [])],
  grants: [SECRETS, ...SOURCES.flatMap((s) => s.grants ?? [])],
  async start(ctx) {
    await checkVault(ctx);
    return {
      services: [getSecretsService(ctx), challengeService(ctx)],
      secretRelease: (request) => release(ctx, request),
    };
  },
};
