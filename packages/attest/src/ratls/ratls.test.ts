import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { policyFromObject } from "../appraisal/policy.ts";
import { toHex } from "../bytes/hex.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { parseCollateralJson } from "../evidence/dcap/collateral.ts";
import { createDcapVerifier } from "../evidence/dcap/verify.ts";
import { type Certificate, parsePemCertificates } from "../x509/certificate.ts";
import {
  checkRaTlsBinding,
  extractRaTlsEvidence,
  RA_TLS_FORMATS,
  type RaTlsEvidence,
  type RaTlsFormat,
  type RaTlsKeyBinding,
} from "./evidence.ts";
import { OID_TCG_DICE_TAGGED_EVIDENCE } from "./oids.ts";
import { verifyRaTlsCertificate } from "./verify-peer.ts";

const V = fileURLToPath(new URL("../../test/vectors/", import.meta.url));
const cert = (f: string) => parsePemCertificates(readFileSync(join(V, "ratls", f), "utf8"))[0] as Certificate;
const collateral = parseCollateralJson(
  readFileSync(join(V, "dcap", "automata-sgx-v3", "collateral.json"), "utf8"),
);
const at = new Date("2025-08-15T05:45:00Z"); // NOTES: the automata-sgx-v3 collateral covers FMSPC 00606A000000 then
const verifier = createDcapVerifier();
const anyStatus = (allowDebug: boolean) =>
  policyFromObject(
    {
      id: "p",
      allowDebug,
      tcbStatuses: [
        "UpToDate",
        "SWHardeningNeeded",
        "OutOfDate",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
        "OutOfDateConfigurationNeeded",
      ],
    },
    "p",
  );
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as KeywardError).code;
  }
  return "accepted";
};

describe("RA-TLS certificates from Gramine, the Intel SGX SDK and rats-tls", () => {
  it("find the TCG evidence in all three, and their bindings verify", () => {
    const expected: Record<string, string> = {
      "gramine-cert.pem": "d8673446",
      "intel-sgxsdk-cert.pem": "e551b081",
      "rats-tls-cert.pem": "3ef61b93",
    };
    for (const [f, prefix] of Object.entries(expected)) {
      const c = cert(f);
      const e = extractRaTlsEvidence(c);
      assert.equal(e.format, "tcg-dice");
      checkRaTlsBinding(c, e);
      assert.equal(toHex(e.quote).length > 0, true);
      assert.ok(toHex(verifierReportData(e.quote)).startsWith(prefix), f);
    }
    assert.deepEqual(extractRaTlsEvidence(cert("rats-tls-cert.pem")).claims?.other, ["key_0", "key_1"]); // ignored
  });

  it("falls back to Gramine's legacy extension (its OID as actually encoded) and to the SGX SDK's", () => {
    const g = cert("gramine-cert.pem");
    const legacyOnly = {
      ...g,
      extensions: g.extensions.filter((e) => e.oid !== OID_TCG_DICE_TAGGED_EVIDENCE),
    };
    const e = extractRaTlsEvidence(legacyOnly);
    assert.equal(e.format, "gramine-legacy");
    assert.equal(e.oid, "0.6.9.42.840.113741.1337.6");
    checkRaTlsBinding(legacyOnly, e);
    const s = cert("intel-sgxsdk-cert.pem");
    const sdkOnly = { ...s, extensions: s.extensions.filter((x) => x.oid !== OID_TCG_DICE_TAGGED_EVIDENCE) };
    assert.equal(extractRaTlsEvidence(sdkOnly).format, "intel-sgx-sdk");
  });

  it("rejects the debug enclaves by default and accepts the one whose collateral is available with debug allowed", () => {
    const g = cert("gramine-cert.pem");
    assert.equal(
      code(() => verifyRaTlsCertificate(g, { verifier, collateral, at, policy: anyStatus(false) })),
      "ERR_RATLS_POLICY_REJECTED",
    );
    const r = verifyRaTlsCertificate(g, { verifier, collateral, at, policy: anyStatus(true) });
    assert.equal(r.verified.tcbStatus, "OutOfDate");
    assert.equal(r.verified.advisoryIds.length, 10);
    // rats-tls: same platform, but its certificate expired on 2024-02-22.
    assert.equal(
      code(() =>
        verifyRaTlsCertificate(cert("rats-tls-cert.pem"), {
          verifier,
          collateral,
          at,
          policy: anyStatus(true),
        }),
      ),
      "ERR_RATLS_CERT_EXPIRED",
    );
    // Intel SGX SDK: another FMSPC (00706A100000, Processor CA); no collateral of it is available.
    assert.notEqual(
      code(() => verifyRaTlsCertificate(cert("intel-sgxsdk-cert.pem"), { verifier, collateral, at })),
      "accepted",
    );
  });

  it("rejects a swapped key, edited claims, a missing nonce and expired collateral, each with its code", () => {
    const g = cert("gramine-cert.pem");
    const other = cert("rats-tls-cert.pem");
    assert.equal(
      code(() => checkRaTlsBinding({ ...g, spki: other.spki }, extractRaTlsEvidence(g))),
      "ERR_RATLS_BINDING_MISMATCH",
    );
    const tcg = g.extensions.find((e) => e.oid === OID_TCG_DICE_TAGGED_EVIDENCE);
    assert.ok(tcg);
    const edited = tcg.value.slice();
    edited[edited.length - 1] = (edited[edited.length - 1] ?? 0) ^ 1; // last byte of the claims' key hash
    const withEdit = { ...g, extensions: g.extensions.map((e) => (e === tcg ? { ...e, value: edited } : e)) };
    assert.equal(
      code(() => checkRaTlsBinding(withEdit, extractRaTlsEvidence(withEdit))),
      "ERR_RATLS_BINDING_MISMATCH",
    );
    assert.equal(
      code(() => checkRaTlsBinding(g, extractRaTlsEvidence(g), { nonce: new Uint8Array(16) })),
      "ERR_RATLS_NONCE_MISMATCH",
    );
    assert.equal(
      code(() =>
        verifyRaTlsCertificate(g, {
          verifier,
          collateral,
          at: new Date("2025-10-01T00:00:00Z"),
          policy: anyStatus(true),
        }),
      ),
      "ERR_CRL_EXPIRED",
    );
    assert.equal(
      code(() => extractRaTlsEvidence({ ...g, extensions: [] })),
      "ERR_RATLS_NO_EVIDENCE",
    );
  });

  it("checks the key for every format: none verifies a certificate whose key the evidence does not bind", () => {
    const g = cert("gramine-cert.pem");
    const other = cert("rats-tls-cert.pem");
    const tcg = extractRaTlsEvidence(g);
    // The real quote binds SHA-256(claims) of Gramine's key: under every format's rule, the other
    // certificate's key is refused (the OE formats' custom claims name the other key's PEM).
    for (const format of RA_TLS_FORMATS) {
      const evidence: RaTlsEvidence = { ...tcg, format, customClaims: new Uint8Array(8) };
      assert.equal(
        code(() => checkRaTlsBinding(other, evidence)),
        "ERR_RATLS_BINDING_MISMATCH",
        format,
      );
    }
    // A format from outside the type system (a cast, a deserialized object) has no binding: refused.
    const unknown = { ...tcg, format: "future-format" as RaTlsFormat };
    assert.equal(
      code(() => checkRaTlsBinding(g, unknown)),
      "ERR_RATLS_BINDING_MISMATCH",
    );
    const proto = { ...tcg, format: "toString" as RaTlsFormat };
    assert.equal(
      code(() => checkRaTlsBinding(g, proto)),
      "ERR_RATLS_BINDING_MISMATCH",
    );
    // The dispatch table's type: leaving a format out is a compile error (checked by tsc -b).
    const noop: RaTlsKeyBinding = () => undefined;
    // @ts-expect-error open-enclave-evidence has no binding
    const partial: { readonly [F in RaTlsFormat]: RaTlsKeyBinding } = {
      "tcg-dice": noop,
      "gramine-legacy": noop,
      "intel-sgx-sdk": noop,
      "open-enclave-report": noop,
    };
    assert.equal(Object.keys(partial).length, RA_TLS_FORMATS.length - 1);
  });

  it("throws nothing but KeywardError for mutated evidence", () => {
    const g = cert("gramine-cert.pem");
    const tcg = g.extensions.find((e) => e.oid === OID_TCG_DICE_TAGGED_EVIDENCE);
    assert.ok(tcg);
    fc.assert(
      fc.property(fc.nat(tcg.value.length - 1), fc.integer({ min: 0, max: 255 }), (pos, value) => {
        const bad = tcg.value.slice();
        bad[pos] = value;
        const c = { ...g, extensions: g.extensions.map((e) => (e === tcg ? { ...e, value: bad } : e)) };
        try {
          verifyRaTlsCertificate(c, { verifier, collateral, at, policy: anyStatus(true) });
        } catch (e) {
          if (!(e instanceof KeywardError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});

function verifierReportData(quote: Uint8Array): Uint8Array {
  // report data sits at the end of the SGX body: bytes 368..432 of a v3 quote
  return quote.subarray(368, 432);
}
