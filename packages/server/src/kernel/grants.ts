/**
 * What a policy grants. Appraisal (`@keyward/attest/appraisal`) decides whether a caller is
 * acceptable; grants say what an accepted caller gets. Each feature owns its grant kinds (the
 * secrets feature: `secrets` and the Vault `appToken`; KMS: `keys`; later `otpEnrollment`, …):
 * a field name, its aliases, and its validation. The policy reader asks every registered kind,
 * so one document's problems — rules and grants alike — are listed at once.
 *
 * @module
 */
import { type Policy, policyListOf, readPolicyDocument } from "@keyward/attest/appraisal";
import { KeywardError } from "@keyward/attest/errors";
import type { OptionValues } from "../ops/options.ts";

/** One kind of grant a policy document may carry. */
export interface GrantKind<T> {
  /** The document field (camelCase), e.g. `secrets`. */
  readonly field: string;
  /** Other spellings accepted (the seed format's snake_case, e.g. `app_token`). */
  readonly aliases?: readonly string[];
  /** The value when the field is absent. */
  readonly absent: T;
  /** Validates the raw value, pushing each problem (starting with `path`); returns the value. */
  parse(raw: unknown, path: string, problems: string[]): T;
  /** Never shown when a policy is listed (a token). */
  readonly secret?: boolean;
  /**
   * Checks a parsed value against the service's own configuration, pushing each problem (starting
   * with `path`): a grant that reaches outside what the operator allowed (a `file:` source outside
   * the configured directories) is refused when the policy is read, not when it is used.
   */
  confine?(value: T, path: string, problems: string[], options: OptionValues): void;
}

/** Declares a grant kind (a helper only for type inference). */
export function defineGrant<T>(kind: GrantKind<T>): GrantKind<T> {
  return kind;
}

/** A policy the service enforces: appraisal rules and grants (by kind field). */
export interface ServicePolicy extends Policy {
  readonly grants: Readonly<Record<string, unknown>>;
}

/** What `policy` grants of `kind` (its `absent` value when the document has none). */
export function grantOf<T>(policy: ServicePolicy, kind: GrantKind<T>): T {
  return Object.hasOwn(policy.grants, kind.field) ? (policy.grants[kind.field] as T) : kind.absent;
}

/** Reads policy documents against a fixed set of grant kinds. */
export interface PolicyReader {
  readonly kinds: readonly GrantKind<unknown>[];
  /** One policy. @throws ERR_POLICY_INVALID listing every problem with its path */
  policy(value: unknown, source: string): ServicePolicy;
  /** A policy set (an array, `{ policies: [...] }`, or one). @throws ERR_POLICY_INVALID */
  policySet(value: unknown, source: string): ServicePolicy[];
  /**
   * The same reader, also holding every grant to what `options` allow (each kind's `confine`): the
   * service reads its files and stored policies, and the Admin listener checks a policy put to it,
   * with this one.
   */
  confined(options: OptionValues): PolicyReader;
}

/**
 * A reader for `kinds`.
 * @throws ERR_SERVICE_CONFIG when two kinds claim one field or alias
 */
export function policyReader(kinds: readonly GrantKind<unknown>[], options?: OptionValues): PolicyReader {
  const byName = new Map<string, GrantKind<unknown>>();
  for (const k of kinds)
    for (const name of [k.field, ...(k.aliases ?? [])]) {
      if (byName.has(name))
        throw new KeywardError("ERR_SERVICE_CONFIG", `two grant kinds claim the policy field "${name}"`);
      byName.set(name, k);
    }
  const grantFields = new Set(byName.keys());
  const policy = (value: unknown, source: string): ServicePolicy => {
    const r = readPolicyDocument(value, source, { grantFields });
    const problems = [...r.problems];
    const grants: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(r.grants)) {
      const kind = byName.get(name) as GrantKind<unknown>;
      if (Object.hasOwn(grants, kind.field)) problems.push(`$.${name}: given twice (also as an alias)`);
      else {
        const before = problems.length;
        const value = kind.parse(raw, `$.${name}`, problems);
        if (options !== undefined && problems.length === before)
          kind.confine?.(value, `$.${name}`, problems, options);
        grants[kind.field] = value;
      }
    }
    if (problems.length > 0)
      throw new KeywardError("ERR_POLICY_INVALID", `${source}: ${problems.join("; ")}`, {
        detail: { source, problems },
      });
    return { ...r.policy, grants };
  };
  return {
    kinds,
    policy,
    confined: (o) => policyReader(kinds, o),
    policySet(value, source) {
      const set = policyListOf(value).map((p, i) => policy(p, `${source}[${i}]`));
      const ids = new Set<string>();
      for (const p of set) {
        if (ids.has(p.id))
          throw new KeywardError("ERR_POLICY_INVALID", `${source}: policy id "${p.id}" appears twice`, {
            detail: { source, problems: [`$: policy id "${p.id}" appears twice`] },
          });
        ids.add(p.id);
      }
      return set;
    },
  };
}

/** A policy as JSON for listing: grants beside the rules, bytes in hex, secret grants never shown. */
export function policyJson(p: ServicePolicy, kinds: readonly GrantKind<unknown>[]): string {
  const hidden = new Set(kinds.filter((k) => k.secret === true).map((k) => k.field));
  const { grants, ...rules } = p;
  const shown = Object.fromEntries(
    Object.entries(grants).map(([k, v]) => [k, hidden.has(k) ? "[redacted]" : v]),
  );
  return JSON.stringify({ ...rules, ...shown }, (_k, v) =>
    v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v,
  );
}
