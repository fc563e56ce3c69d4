/**
 * The secret-release seam: how a feature other than `secrets` (the KBS protocol, Gramine secret
 * provisioning) releases granted secrets without importing the secrets feature. The secrets
 * feature provides it (`FeatureRuntime.secretRelease`); the kernel hands it to every feature as
 * `FeatureContext.releaseSecrets`. A release through it is the secrets feature's own gate request
 * (`secrets.get`: limits, appraisal, the `secrets` grant, the sources, the audit entry with the
 * caller's `via`), so every path that releases a secret makes the same decision and the same
 * audit entry.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { GrantDecision, Released, RequestOrigin } from "./gate.ts";
import type { ServicePolicy } from "./grants.ts";
import type { Caller } from "./subject.ts";

/** A released secret (plaintext: it must leave only inside a channel bound to the caller). */
export interface ReleasedSecret {
  readonly name: string;
  readonly value: Uint8Array;
  readonly version: number;
}

/** What to release. */
export interface SecretReleaseRequest {
  readonly caller: Caller | undefined;
  /** The names asked for (empty: every granted secret, unless `pick` decides). */
  readonly names: readonly string[];
  /**
   * Chooses the names from the accepting policy and the names it grants (e.g. Gramine's one
   * secret per policy); a decision with `refused` names is audited as a denial with its `reason`.
   */
  readonly pick?: (policy: ServicePolicy, granted: readonly string[]) => GrantDecision;
  /** Where the request came from (headers, client address, a one-time code for `otpRequired`). */
  readonly origin?: RequestOrigin | undefined;
}

/** Releases secrets through the gate. @throws the gate's codes and the sources' */
export type SecretRelease = (request: SecretReleaseRequest) => Promise<Released<readonly ReleasedSecret[]>>;

/** The seam before (or without) a provider: nothing can be released. */
export const NO_SECRET_RELEASE: SecretRelease = async () => {
  throw new KeywardError("ERR_INTERNAL", "no feature provides secret release");
};
