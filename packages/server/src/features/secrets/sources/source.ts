/**
 * The contract of a secret source: where a granted secret's value comes from. A policy grants
 * `name → reference`; the reference's scheme (`vault:`, `file:`, `store:`, or none for the
 * built-in store) picks the source. A new source is one file implementing this, plus its line in
 * `sources/index.ts`; it may bring its own options and policy grant fields (the Vault source's
 * address and `appToken`).
 *
 * @module
 */
import type { GrantKind, ServicePolicy } from "../../../kernel/grants.ts";
import type { Option, OptionValues } from "../../../ops/options.ts";
import type { Store } from "../../../store/contract.ts";

/** What a source may use to read one value. */
export interface SourceContext {
  readonly store: Store;
  readonly masterKey: Uint8Array;
  /** The policy that granted the secret (its grants, e.g. the Vault `appToken`). */
  readonly policy: ServicePolicy;
  readonly options: OptionValues;
}

/** A secret's value and version (0 when the source has no versions). */
export interface SourcedValue {
  readonly value: Uint8Array;
  readonly version: number;
}

/** One source. */
export interface SecretSource {
  /** The reference scheme without its colon (`vault`), or `""` for references without one. */
  readonly scheme: string;
  readonly options?: readonly Option<unknown>[];
  readonly grants?: readonly GrantKind<unknown>[];
  /**
   * Reads the value of `ref` (the whole reference, scheme included).
   * @throws ERR_SERVICE_SECRET_NOT_FOUND, ERR_SERVICE_SOURCE_UNSUPPORTED, ERR_SERVICE_DENIED
   */
  read(ref: string, ctx: SourceContext): Promise<SourcedValue>;
  /**
   * Why `ref` is outside what this service's configuration lets a policy grant (a `file:` path
   * outside the configured directories, a `vault:` grant without a Vault address), or undefined.
   * Checked when a policy is read or stored; `read` checks again.
   */
  confine?(ref: string, options: OptionValues): string | undefined;
}
