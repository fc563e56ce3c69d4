/**
 * An index of a policy set by the claims its policies pin, so that the policies that could accept
 * a caller are found in time independent of how many policies there are: a policy that pins
 * MRENCLAVE can accept only an SGX caller with one of those values (the rule fails closed
 * otherwise, appraise.ts), one that pins MRSIGNER only a caller with that signer, one that pins
 * MRTD only a TD with that MRTD. Policies that pin none of these are candidates for every caller.
 *
 * Candidates keep the set's order, so "the first accepting policy wins" is unchanged.
 *
 * @module
 */
import { toHex } from "../bytes/hex.ts";
import type { VerifiedQuote } from "../evidence/claims.ts";
import type { Policy } from "./policy.ts";

/** Positions in a policy set of the policies that may accept a caller. */
export interface PolicyIndex {
  /** Ascending positions into the indexed set. */
  candidates(verified: VerifiedQuote): readonly number[];
}

const add = (m: Map<string, number[]>, key: string, i: number) => {
  const list = m.get(key);
  if (list === undefined) m.set(key, [i]);
  else if (list[list.length - 1] !== i) list.push(i);
};

/**
 * Builds the index of `policies` (O(n) in the number of pinned values). Each policy is filed
 * under the most specific claim it pins: MRENCLAVE, else MRSIGNER, else MRTD, else "unpinned".
 */
export function indexPolicies(policies: readonly Policy[]): PolicyIndex {
  const byMrEnclave = new Map<string, number[]>();
  const byMrSigner = new Map<string, number[]>();
  const byMrTd = new Map<string, number[]>();
  const unpinned: number[] = [];
  policies.forEach((p, i) => {
    if (p.mrEnclave !== undefined) for (const v of p.mrEnclave) add(byMrEnclave, toHex(v), i);
    else if (p.mrSigner !== undefined) for (const v of p.mrSigner) add(byMrSigner, toHex(v), i);
    else if (p.mrTd !== undefined) for (const v of p.mrTd) add(byMrTd, toHex(v), i);
    else unpinned.push(i);
  });
  const none: readonly number[] = [];
  return {
    candidates(verified) {
      const c = verified.claims;
      const lists =
        c.tee === "sgx"
          ? [byMrEnclave.get(toHex(c.mrEnclave)) ?? none, byMrSigner.get(toHex(c.mrSigner)) ?? none, unpinned]
          : [byMrTd.get(toHex(c.mrTd)) ?? none, unpinned];
      return mergeSorted(lists.filter((l) => l.length > 0));
    },
  };
}

// The lists are ascending and disjoint (each policy is filed once): a k-way merge keeps set order.
function mergeSorted(lists: readonly (readonly number[])[]): readonly number[] {
  if (lists.length === 0) return [];
  if (lists.length === 1) return lists[0] as readonly number[];
  return lists.flat().sort((a, b) => a - b);
}

const cache = new WeakMap<readonly Policy[], { readonly index: PolicyIndex; readonly length: number }>();

/**
 * The index of `policies`, built once per set: a service hands the same array until its policies
 * change (the array is then replaced). An array that grew or shrank since is indexed again.
 */
export function policyIndexOf(policies: readonly Policy[]): PolicyIndex {
  const cached = cache.get(policies);
  if (cached !== undefined && cached.length === policies.length) return cached.index;
  const index = indexPolicies(policies);
  cache.set(policies, { index, length: policies.length });
  return index;
}
