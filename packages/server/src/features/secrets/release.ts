/**
 * Releasing secrets through the gate: one definition for both paths (mutual RA-TLS and the
 * challenge path), so that a request gets the same decision and the same audit entry whichever
 * way the caller authenticated.
 *
 * @module
 */
import type { FeatureContext } from "../../kernel/feature.ts";
import type { Released, RequestOrigin } from "../../kernel/gate.ts";
import { grantOf } from "../../kernel/grants.ts";
import type { Caller } from "../../kernel/subject.ts";
import { grantSecrets, SECRETS } from "./grants.ts";
import { readGrant } from "./sources/index.ts";

/** A released secret (plaintext: it must leave only inside a channel bound to the caller). */
export interface ReleasedSecret {
  readonly name: string;
  readonly value: Uint8Array;
  readonly version: number;
}

/**
 * Releases `names` (every granted secret when empty) to `caller`; `origin` carries a one-time code
 * when the policy requires one (`otpRequired`).
 * @throws the gate's codes, and the sources' (ERR_SERVICE_SECRET_NOT_FOUND, …)
 */
export function releaseSecrets(
  ctx: FeatureContext,
  caller: Caller | undefined,
  names: readonly string[],
  origin?: RequestOrigin,
): Promise<Released<readonly ReleasedSecret[]>> {
  return ctx.gate.release({
    action: "secrets.get",
    caller,
    names,
    origin,
    grant: grantSecrets,
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
