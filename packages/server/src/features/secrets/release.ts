/**
 * Releasing secrets through the gate: one definition for every path (mutual RA-TLS, the challenge
 * path, and — through the kernel's secret-release seam — the KBS protocol and Gramine secret
 * provisioning), so that a request gets the same decision and the same audit entry whichever way
 * the caller authenticated.
 *
 * @module
 */
import type { FeatureContext } from "../../kernel/feature.ts";
import type { Released, RequestOrigin } from "../../kernel/gate.ts";
import { grantOf } from "../../kernel/grants.ts";
import type { ReleasedSecret, SecretReleaseRequest } from "../../kernel/secret-release.ts";
import type { Caller } from "../../kernel/subject.ts";
import { grantSecrets, SECRETS } from "./grants.ts";
import { readGrant } from "./sources/index.ts";

export type { ReleasedSecret } from "../../kernel/secret-release.ts";

/**
 * Releases `names` (every granted secret when empty) to `caller`; `origin` carries a one-time code
 * when the policy requires one (`otpRequired`).
 * @throws the gate's codes, and the sources' (ERR_SERVICE_SECRET_NOT_FOUND, ERR_VAULT_*, …)
 */
export function releaseSecrets(
  ctx: FeatureContext,
  caller: Caller | undefined,
  names: readonly string[],
  origin?: RequestOrigin,
): Promise<Released<readonly ReleasedSecret[]>> {
  return release(ctx, { caller, names, origin });
}

/** The secret-release seam's implementation (kernel/secret-release.ts). */
export function release(
  ctx: FeatureContext,
  request: SecretReleaseRequest,
): Promise<Released<readonly ReleasedSecret[]>> {
  const { pick } = request;
  return ctx.gate.release({
    action: "secrets.get",
    caller: request.caller,
    names: request.names,
    origin: request.origin,
    grant:
      pick === undefined
        ? grantSecrets
        : (policy) => pick(policy, Object.keys(grantOf(policy, SECRETS)).sort()),
    async act(policy, granted) {
      const refs = grantOf(policy, SECRETS);
      const out: ReleasedSecret[] = [];
      for (const name of granted) {
        const { value, version } = await readGrant(refs[name] as string, {
          store: ctx.store,
          masterKey: ctx.masterKey,
          policy,
          options: ctx.config.options,
        });
        out.push({ name, value, version });
      }
      return out;
    },
  });
}
