import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { dcapVectors } from "../../test/dcap-vectors.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { claimsRecord, verifiedFromRecord } from "./claims-record.ts";
import { createDcapVerifier, parseCollateralJson } from "./dcap/index.ts";

const verified = dcapVectors().flatMap((v) => {
  try {
    return [
      { name: v.name, q: createDcapVerifier().verify(v.quote, parseCollateralJson(v.collateralText), v.at) },
    ];
  } catch {
    return [];
  }
});

describe("claims records", () => {
  it("round-trip every verified real SGX and TDX quote exactly, through JSON text", () => {
    assert.ok(verified.some((v) => v.q.tee === "sgx") && verified.some((v) => v.q.tee === "tdx"));
    for (const { name, q } of verified) {
      const back = verifiedFromRecord(JSON.parse(JSON.stringify(claimsRecord(q))));
      // The DCAP verifier adds `details` (collateral facts); the record keeps the VerifiedQuote.
      const { details: _details, ...claimsOnly } = q as typeof q & { details?: unknown };
      assert.deepEqual(back, claimsOnly, name);
    }
  });

  it("name the field that is missing or of the wrong length", () => {
    const { q } = verified.find((v) => v.q.tee === "sgx") ?? assert.fail("no SGX vector");
    const r = JSON.parse(JSON.stringify(claimsRecord(q)));
    r.claims.mrEnclave = r.claims.mrEnclave.slice(2);
    const invalid = (message: RegExp) => ({ code: "ERR_INPUT_INVALID", message });
    assert.throws(() => verifiedFromRecord(r), invalid(/\$\.claims\.mrEnclave: expected 32 bytes/));
    delete r.claims.mrEnclave;
    assert.throws(() => verifiedFromRecord(r), invalid(/\$\.claims\.mrEnclave/));
    assert.throws(() => verifiedFromRecord({ ...r, platform: "real" }), invalid(/\$\.platform/));
    // A record can carry no status a verified quote cannot have (issue 11: Revoked is terminal).
    assert.throws(() => verifiedFromRecord({ ...r, tcbStatus: "Revoked" }), invalid(/\$\.tcbStatus/));
    assert.throws(() => verifiedFromRecord(null), invalid(/claims record \$: expected an object/));
  });

  it("refuses a validUntil that is not text without converting it (fast-check counterexample)", () => {
    const r = JSON.parse(JSON.stringify(claimsRecord(verified[0]?.q ?? assert.fail("no vector"))));
    assert.throws(() => verifiedFromRecord({ ...r, validUntil: [{ toString: null }] }), {
      code: "ERR_INPUT_INVALID",
      message: /\$\.validUntil/,
    });
  });

  it("never crash on mutated records (property)", () => {
    const records = verified.map((v) => JSON.parse(JSON.stringify(claimsRecord(v.q))));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: records.length - 1 }),
        fc.constantFrom("tee", "platform", "tcbStatus", "fmspc", "validUntil", "claims", "advisoryIds"),
        fc.jsonValue(),
        (i, field, value) => {
          const r = { ...records[i], [field]: value };
          try {
            verifiedFromRecord(r);
          } catch (e) {
            assert.ok(e instanceof KeywardError, String(e));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
