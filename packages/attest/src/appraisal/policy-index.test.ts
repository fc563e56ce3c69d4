import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { SgxClaims, TdxClaims, VerifiedQuote } from "../evidence/claims.ts";
import { appraise, appraiseAgainstSet } from "./appraise.ts";
import { type Policy, policyFromObject } from "./policy.ts";
import { indexPolicies } from "./policy-index.ts";

const b = (n: number, v: number) => new Uint8Array(n).fill(v);
const hex = (n: number, v: number) => Buffer.from(b(n, v)).toString("hex");

const sgx = (mrEnclave: number, mrSigner: number, isvProdId = 1): VerifiedQuote => ({
  tee: "sgx",
  quoteVersion: 3,
  platform: "hardware",
  tcbStatus: "UpToDate",
  advisoryIds: [],
  fmspc: b(6, 0),
  validUntil: new Date("2030-01-01T00:00:00Z"),
  claims: {
    tee: "sgx",
    mrEnclave: b(32, mrEnclave),
    mrSigner: b(32, mrSigner),
    isvProdId,
    isvSvn: 3,
    attributes: b(16, 0),
    debug: false,
    mode64Bit: true,
    miscSelect: 0,
    cpuSvn: b(16, 0),
    configId: b(64, 0),
    configSvn: 0,
    isvExtProdId: b(16, 0),
    isvFamilyId: b(16, 0),
    reportData: b(64, 0),
  } satisfies SgxClaims,
});
const tdx = (mrTd: number): VerifiedQuote => ({
  ...sgx(0, 0),
  tee: "tdx",
  quoteVersion: 4,
  claims: {
    tee: "tdx",
    teeTcbSvn: b(16, 0),
    mrSeam: b(48, 1),
    mrSignerSeam: b(48, 0),
    seamAttributes: b(8, 0),
    tdAttributes: b(8, 0),
    debug: false,
    septVeDisable: false,
    xfam: b(8, 0),
    mrTd: b(48, mrTd),
    mrConfigId: b(48, 0),
    mrOwner: b(48, 0),
    mrOwnerConfig: b(48, 0),
    rtmr: [b(48, 1), b(48, 2), b(48, 3), b(48, 4)],
    reportData: b(64, 0),
  } satisfies TdxClaims,
});

// The reference the index must agree with: every policy appraised, in order.
function fullScan(verified: VerifiedQuote, policies: readonly Policy[]): Policy | undefined {
  return policies.find((p) => appraise(verified, p).accepted);
}

// Small value ranges so that random sets and callers collide often.
const policyArb = fc.record(
  {
    mrEnclave: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }),
    mrSigner: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
    mrTd: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
    isvProdId: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 1, maxLength: 2 }),
    tee: fc.constantFrom(["sgx"], ["tdx"], ["sgx", "tdx"]),
  },
  { requiredKeys: ["tee"] },
);
const callerArb = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }))
    .map(([e, s, p]) => sgx(e, s, p)),
  fc.integer({ min: 1, max: 3 }).map(tdx),
);
type PolicyDoc = typeof policyArb extends fc.Arbitrary<infer T> ? T : never;
const toPolicy = (p: PolicyDoc, i: number) =>
  policyFromObject(
    {
      id: `p${i}`,
      tee: p.tee,
      ...(p.mrEnclave === undefined ? {} : { mrEnclave: p.mrEnclave.map((v: number) => hex(32, v)) }),
      ...(p.mrSigner === undefined ? {} : { mrSigner: p.mrSigner.map((v: number) => hex(32, v)) }),
      ...(p.mrTd === undefined ? {} : { mrTd: p.mrTd.map((v: number) => hex(48, v)) }),
      ...(p.isvProdId === undefined ? {} : { isvProdId: p.isvProdId }),
    },
    `p${i}`,
  );

describe("the policy index", () => {
  it("picks the same policy as appraising every policy in order (property)", () => {
    fc.assert(
      fc.property(fc.array(policyArb, { maxLength: 30 }), callerArb, (docs, caller) => {
        const policies = docs.map(toPolicy);
        assert.equal(appraiseAgainstSet(caller, policies).accepted?.id, fullScan(caller, policies)?.id);
        // Every accepting policy is a candidate, and candidates keep the set's order.
        const candidates = indexPolicies(policies).candidates(caller);
        assert.deepEqual(
          [...candidates],
          [...candidates].sort((a, b) => a - b),
        );
        policies.forEach((p, i) => {
          if (appraise(caller, p).accepted)
            assert.ok(candidates.includes(i), `policy ${p.id} is a candidate`);
        });
      }),
      { numRuns: 500 },
    );
  });

  it("appraises only the caller's candidates among 10,000 policies, keeping precedence", () => {
    const policies = Array.from({ length: 10_000 }, (_, i) =>
      policyFromObject(
        {
          id: `app-${i}`,
          mrEnclave: [
            Buffer.alloc(32, 0)
              .fill(i % 251, 0, 1)
              .fill(i >> 8, 1, 2)
              .toString("hex"),
          ],
        },
        `app-${i}`,
      ),
    );
    const unpinned = policyFromObject({ id: "any-signer-1", mrSigner: [hex(32, 9)] }, "s");
    const set = [...policies, unpinned];
    const caller = sgx(0, 9);
    const r = appraiseAgainstSet(caller, set);
    assert.equal(r.accepted?.id, "app-0", "the MRENCLAVE policy comes first in the set");
    assert.equal(r.appraisals.length, 1);
    const stranger = appraiseAgainstSet(sgx(0xee, 0xee), set);
    assert.equal(stranger.accepted, undefined);
    assert.equal(stranger.appraisals.length, 0, "no policy pins anything of this caller");
  });

  it("re-indexes a set that grew in place", () => {
    const set: Policy[] = [policyFromObject({ id: "a", mrEnclave: [hex(32, 1)] }, "a")];
    assert.equal(appraiseAgainstSet(sgx(2, 1), set).accepted, undefined);
    set.push(policyFromObject({ id: "b", mrEnclave: [hex(32, 2)] }, "b"));
    assert.equal(appraiseAgainstSet(sgx(2, 1), set).accepted?.id, "b");
  });
});
