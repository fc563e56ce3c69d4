import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { canonicalJson, expectedReportData } from "./binding.ts";
import { checkVersion, parseKbsAttestation, parseKbsRequest, quoteOfEvidence } from "./protocol.ts";

const ok = (e: unknown) =>
  ["ERR_KBS_REQUEST_INVALID", "ERR_KBS_VERSION"].includes((e as { code?: string }).code ?? "");

describe("KBS messages", () => {
  it("canonical JSON matches Trustee's attestation-service vector (SHA-384 of {b, a, c})", () => {
    // attestation-service/src/lib.rs, test case of parse_runtime_data with a structured value.
    const json = canonicalJson({ b: 1, a: "test", c: { d: "e" } });
    assert.equal(json, '{"a":"test","b":1,"c":{"d":"e"}}');
    assert.equal(
      createHash("sha384").update(json).digest("hex"),
      "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da78870c3",
    );
  });

  it("report data: SHA-384 of the sorted runtime data, zero-padded to 64 bytes", () => {
    const key = { kty: "EC" as const, crv: "P-256", alg: "ECDH-ES+A256KW", x: "eA", y: "eQ" };
    const rd = expectedReportData("bm9uY2U=", key, "");
    const text =
      '{"additional-evidence":"","nonce":"bm9uY2U=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"eA","y":"eQ"}}';
    assert.deepEqual(Buffer.from(rd.subarray(0, 48)), createHash("sha384").update(text).digest());
    assert.deepEqual(Buffer.from(rd.subarray(48)), Buffer.alloc(16));
  });

  it("versions: semver parse, then =0.4.0", () => {
    assert.equal(checkVersion("0.4.0"), "0.4.0");
    for (const v of ["0.3.0", "0.4.0-alpha", "00.4.0", "0.4"])
      assert.throws(() => checkVersion(v), { code: "ERR_KBS_VERSION" }, v);
    assert.throws(() => checkVersion(null), { code: "ERR_KBS_REQUEST_INVALID" });
  });

  it("reads a Request and an Attestation, and refuses each missing or mistyped field", () => {
    const r = parseKbsRequest({
      version: "0.4.0",
      tee: "sgx",
      "extra-params": { "supported-hash-algorithms": ["SHA384"] },
    });
    assert.deepEqual(r.supportedHashAlgorithms, ["sha384"]);
    const good = {
      "runtime-data": {
        nonce: "n",
        "tee-pubkey": { kty: "EC", crv: "P-256", alg: "ECDH-ES+A256KW", x: "eA", y: "eQ" },
      },
      "tee-evidence": { primary_evidence: { quote: "AAAA" }, additional_evidence: "" },
    };
    assert.equal(parseKbsAttestation(good).nonce, "n");
    const broken = [
      null,
      [],
      { ...good, "runtime-data": undefined },
      { ...good, "tee-evidence": { additional_evidence: "" } },
      { ...good, "runtime-data": { nonce: 1, "tee-pubkey": {} } },
      {
        ...good,
        "runtime-data": { nonce: "n", "tee-pubkey": { kty: "EC", crv: "P-256", x: "e+", y: "eQ", alg: "a" } },
      },
      { ...good, "init-data": { format: "toml" } },
    ];
    for (const b of broken)
      assert.throws(() => parseKbsAttestation(b), { code: "ERR_KBS_REQUEST_INVALID" }, JSON.stringify(b));
    assert.throws(() => quoteOfEvidence({ quote: "not base64!" }, 100), { code: "ERR_KBS_REQUEST_INVALID" });
    assert.throws(() => quoteOfEvidence({ quote: "A".repeat(400) }, 100), {
      code: "ERR_KBS_REQUEST_INVALID",
    });
  });

  it("never throws anything but its codes for arbitrary JSON (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        for (const f of [
          () => parseKbsRequest(a),
          () => parseKbsAttestation(b),
          () => quoteOfEvidence(a, 1000),
        ]) {
          try {
            f();
          } catch (e) {
            assert.ok(ok(e), String(e));
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
