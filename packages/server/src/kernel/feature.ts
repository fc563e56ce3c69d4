/**
 * The Feature contract: what a feature folder gives the composition root (main.ts), and what the
 * kernel gives a feature. A feature is one folder under `features/` and one line in main.ts; it
 * never imports another feature, and the kernel never imports it. Everything a feature owns is
 * declared here, so features added at the same time touch different files:
 *
 * - `migrations`: its own tables, numbered 1, 2, 3… under its own name (`schema_versions`);
 * - `options`: its configuration options (flag, environment variable, config-file key, parser,
 *   default, doc line), read once with every other option;
 * - `grants`: the policy fields it owns and validates (e.g. `secrets`, `keys`);
 * - `start`: given the kernel's context, its gRPC services (each on a kernel listener, or a
 *   listener of its own), its readiness checks, and what it provides to the kernel's seams.
 *
 * @module
 */

import type { ServiceConfig } from "../ops/config.ts";
import type { ReadinessCheck } from "../ops/health.ts";
import type { ServiceLogger } from "../ops/logs.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { Option } from "../ops/options.ts";
import type { Store } from "../store/contract.ts";
import type { Migration } from "../store/migrations.ts";
import type { SqlRunner } from "../store/sql.ts";
import type { Gate } from "./gate.ts";
import type { GrantKind } from "./grants.ts";
import type { Listening } from "./listening.ts";
import type { PolicySet } from "./policy-set.ts";
import type { RpcService } from "./rpc.ts";
import type { AcceptedCode, CodeContext, PresentedCode, SecondFactor } from "./second-factor.ts";
import type { SecretRelease } from "./secret-release.ts";
import type { AdminStepUp } from "./step-up.ts";
import type { ServiceTrust } from "./trust.ts";

/** A feature, as registered in main.ts. */
export interface Feature {
  /** Lower-case name (`secrets`, `kms`, `otp`): owner of its migrations, prefix of its audit actions. */
  readonly name: string;
  readonly migrations?: readonly Migration[];
  readonly options?: readonly Option<unknown>[];
  readonly grants?: readonly GrantKind<unknown>[];
  /** Starts the feature once the store, policies, trust and gate are up. */
  start?(ctx: FeatureContext): FeatureRuntime | Promise<FeatureRuntime>;
  /**
   * Re-seals the feature's own rows sealed by the master key under `newKey`, inside the rotation's
   * transaction `tx` (`keyward admin rotate-master-key`, with the service stopped); returns how
   * many. A feature that seals rows with the master key must have it, or a rotation would leave
   * them unopenable.
   * @throws ERR_SERVICE_SECRET_INTEGRITY when a row does not open under `oldKey` (nothing is changed)
   */
  reseal?(tx: SqlRunner, oldKey: Uint8Array, newKey: Uint8Array): Promise<number>;
}

/** What the kernel gives a started feature. */
export interface FeatureContext {
  /** Every option's value: `ctx.config.options.get(MY_OPTION)`. */
  readonly config: ServiceConfig;
  /** The core store; `store.sql` is portable SQL for the feature's own tables. */
  readonly store: Store;
  /** The one release gate: anything leaving the service goes through `gate.release`. */
  readonly gate: Gate;
  readonly policies: PolicySet;
  /** The master key (sealing and unsealing only; never logged or returned). */
  readonly masterKey: Uint8Array;
  /**
   * The stable key (kernel/stable-key.ts): derive long-lived keys from it (`deriveStableKey`), not
   * from the master key, so that they survive a master-key rotation.
   */
  readonly stableKey: Uint8Array;
  readonly trust: ServiceTrust;
  readonly logger: ServiceLogger;
  readonly metrics: Metrics;
  readonly now: () => Date;
  /** The admin second-factor seam (kernel/step-up.ts), as composed from the features that provide one. */
  readonly stepUp: AdminStepUp;
  /** Releasing granted secrets through the gate (kernel/secret-release.ts; the secrets feature's). */
  readonly releaseSecrets: SecretRelease;
  /**
   * Verifies and consumes a one-time code through the second factor a feature provides (the OTP
   * feature's), for a feature whose own protocol asks for one (the licensing server's login step-up).
   * @throws ERR_OTP_* as {@link SecondFactor.verify}; ERR_OTP_REQUIRED when no feature provides one
   */
  readonly verifyCode: (presented: PresentedCode, context: CodeContext) => Promise<AcceptedCode>;
}

/** A listener a feature runs itself (e.g. a KBS HTTP endpoint), started after the kernel's. */
export interface OwnListener {
  readonly listener: "own";
  /** Named in the start-up log line and readiness. */
  readonly name: string;
  start(): Promise<Listening>;
}

/** What a started feature serves and offers. */
export interface FeatureRuntime {
  readonly services?: readonly (RpcService | OwnListener)[];
  readonly readiness?: readonly ReadinessCheck[];
  /** A second factor for admin changes (the OTP feature's), composed into `FeatureContext.stepUp`. */
  readonly adminStepUp?: AdminStepUp;
  /**
   * The second factor a policy grant may require before a release (the OTP feature's), used by
   * the gate's second-factor step (kernel/second-factor.ts).
   */
  readonly secondFactor?: SecondFactor;
  /** Secret release for the other features (the secrets feature's), as `FeatureContext.releaseSecrets`. */
  readonly secretRelease?: SecretRelease;
  /** Called at shutdown, after the listeners closed and before the store closes. */
  close?(): Promise<void>;
}
