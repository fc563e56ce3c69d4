import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { dcapVectors, vectorFile } from "../../../test/dcap-vectors.ts";
import { toHex } from "../../bytes/hex.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { parsePemCertificates } from "../../x509/certificate.ts";
import { collateralFromPcs, type DcapCollateral, parseCollateralJson } from "./collateral.ts";
import { parseDcapQuote } from "./quote.ts";
import { intelTrustAnchor } from "./trust-anchor.ts";
import { createDcapVerifier, verifyDcapQuote } from "./verify.ts";

const vectors = dcapVectors();
const verifier = createDcapVerifier();
const collateralOf = new Map(vectors.map((v) => [v.name, parseCollateralJson(v.collateralText)]));
const col = (name: string): DcapCollateral => collateralOf.get(name) as DcapCollateral;
const byName = (name: string) => {
  const v = vectors.find((x) => x.name === name);
  assert.ok(v, name);
  return v;
};
const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof KeywardError) return e.code;
    throw e;
  }
  return "accepted";
};

describe("DCAP verification of the real vectors (Intel QVL semantics)", () => {
  it("has all 9 vectors", () => assert.equal(vectors.length, 9));

  for (const v of vectors) {
    const x = v.expected.expected_intel_qvl_semantics;
    it(`${v.name}: ${x.status ?? x.result}`, () => {
      if (x.status !== undefined) {
        const r = verifier.verify(v.quote, col(v.name), v.at);
        assert.equal(r.tcbStatus, x.status);
        assert.deepEqual([...r.advisoryIds], [...x.advisoryIDs].sort());
        assert.equal(r.platform, "hardware");
        assert.equal(r.details.qeTcbStatus, x.qe_tcb.status);
        if (x.tdx_module !== undefined) {
          assert.equal(r.details.tdxModule?.isvSvn, x.tdx_module.isvsvn);
          assert.equal(r.details.tdxModule?.status, x.tdx_module.status);
        }
        assert.ok(
          r.validUntil.getTime() <= new Date(v.expected.collateral_validity_window.not_after).getTime() + 999,
        );
      } else {
        // The MANIFEST's TCB_NOT_SUPPORTED vectors: signatures valid, no TCB level matches.
        const used = v.quote.subarray(0, v.expected.quote.bytes_used);
        assert.equal(
          codeOf(() => verifier.verify(used, col(v.name), v.at)),
          "ERR_DCAP_TCB_NOT_SUPPORTED",
        );
      }
    });
  }

  it("exposes the header, body, QE report and PCK fields of expected.json", () => {
    for (const v of vectors) {
      const e = v.expected;
      const q = parseDcapQuote(v.quote.subarray(0, e.quote.bytes_used));
      assert.equal(q.header.version, e.quote.version, v.name);
      assert.equal(q.signed.byteLength, e.quote.signed_length, v.name);
      assert.equal(toHex(q.header.qeVendorId), e.quote.qe_vendor_id, v.name);
      assert.equal(toHex(q.header.userData), e.quote.user_data, v.name);
      const qe = q.signatureData.qeReport;
      assert.equal(toHex(qe.mrSigner), e.qe_report.mrsigner, v.name);
      assert.equal(qe.isvProdId, e.qe_report.isvprodid, v.name);
      assert.equal(qe.isvSvn, e.qe_report.isvsvn, v.name);
      assert.equal(toHex(qe.attributes), e.qe_report.attributes, v.name);
      assert.equal(toHex(qe.cpuSvn), e.qe_report.cpusvn, v.name);
      assert.equal(q.signatureData.qeAuthData.byteLength, e.quote.qe_auth_data_length, v.name);
      const r = e.report;
      if (q.body.kind === "sgx") {
        assert.equal(toHex(q.body.report.mrEnclave), r.mrenclave, v.name);
        assert.equal(toHex(q.body.report.mrSigner), r.mrsigner, v.name);
        assert.equal(q.body.report.isvProdId, r.isvprodid, v.name);
        assert.equal(q.body.report.isvSvn, r.isvsvn, v.name);
        assert.equal(toHex(q.body.report.reportData), r.reportdata, v.name);
      } else {
        const b = q.body.report;
        assert.equal(toHex(b.mrTd), r.mrtd, v.name);
        assert.equal(toHex(b.teeTcbSvn), r.tee_tcb_svn, v.name);
        assert.equal(toHex(b.tdAttributes), r.td_attributes, v.name);
        assert.deepEqual(b.rtmr.map(toHex), [r.rtmr0, r.rtmr1, r.rtmr2, r.rtmr3], v.name);
        assert.equal(toHex(b.reportData), r.reportdata, v.name);
        if (r.mr_servicetd !== undefined)
          assert.equal(toHex(b.mrServiceTd ?? new Uint8Array()), r.mr_servicetd, v.name);
      }
    }
  });

  it("reports the claims with the debug flags of the report", () => {
    const r = verifier.verify(
      byName("gotdx-tdx-v4-cos113").quote,
      col("gotdx-tdx-v4-cos113"),
      byName("gotdx-tdx-v4-cos113").at,
    );
    assert.equal(r.claims.tee, "tdx");
    assert.equal(r.claims.debug, byName("gotdx-tdx-v4-cos113").expected.report.td_debug);
  });

  it("gives the same verdict cold and warm", () => {
    const v = byName("automata-sgx-v3");
    const cold = verifyDcapQuote(v.quote, parseCollateralJson(v.collateralText), { at: v.at });
    const warm1 = verifier.verify(v.quote, col(v.name), v.at);
    const warm2 = verifier.verify(v.quote, col(v.name), v.at);
    assert.deepEqual(warm1, cold);
    assert.deepEqual(warm2, cold);
  });
});

describe("DCAP negative cases (MANIFEST note E)", () => {
  it("rejects every verification time outside the collateral window", () => {
    for (const v of vectors.filter((x) => x.expected.expected_intel_qvl_semantics.status !== undefined)) {
      const w = v.expected.collateral_validity_window;
      const before = new Date(new Date(w.not_before).getTime() - 60_000);
      const after = new Date(new Date(w.not_after).getTime() + 60_000);
      for (const at of [before, after]) {
        const code = codeOf(() => verifier.verify(v.quote, col(v.name), at));
        assert.match(
          code,
          /^ERR_(X509_EXPIRED|CRL_EXPIRED|DCAP_COLLATERAL_EXPIRED)$/,
          `${v.name} at ${at.toISOString()}`,
        );
      }
    }
  });

  it("rejects an expired PCK CRL (note D: phala-tdx-v4 at 2025-07-19T10:05:00Z)", () => {
    const v = byName("phala-tdx-v4");
    assert.equal(
      codeOf(() => verifier.verify(v.quote, col(v.name), new Date("2025-07-19T10:05:00Z"))),
      "ERR_CRL_EXPIRED",
    );
  });

  it("rejects every flipped byte of the signed region", () => {
    for (const v of vectors.filter((x) => x.expected.expected_intel_qvl_semantics.status !== undefined)) {
      const signedLength = v.expected.quote.signed_length as number;
      for (let i = 0; i < signedLength; i++) {
        const bad = v.quote.slice();
        bad[i] = (bad[i] ?? 0) ^ 0x01;
        let parses = true;
        try {
          parseDcapQuote(bad);
        } catch {
          parses = false;
        }
        const code = codeOf(() => verifier.verify(bad, col(v.name), v.at));
        if (parses) assert.equal(code, "ERR_DCAP_QUOTE_SIGNATURE_INVALID", `${v.name} byte ${i}`);
        else assert.notEqual(code, "accepted", `${v.name} byte ${i}`);
      }
    }
  });

  it("rejects one edited character of tcb_info or qe_identity", () => {
    const v = byName("automata-sgx-v3");
    const json = JSON.parse(v.collateralText);
    for (const field of ["tcb_info", "qe_identity"]) {
      const edited = { ...json, [field]: json[field].replace('"version":', '"version" :') };
      const bumped = {
        ...json,
        [field]: json[field].replace(/"tcbEvaluationDataNumber":(\d)/, '"tcbEvaluationDataNumber":9$1'),
      };
      for (const doc of [edited, bumped]) {
        assert.notEqual(doc[field], json[field]);
        const code = codeOf(() => verifier.verify(v.quote, parseCollateralJson(JSON.stringify(doc)), v.at));
        assert.equal(code, "ERR_DCAP_COLLATERAL_SIGNATURE_INVALID", field);
      }
    }
  });

  it("rejects collateral of another FMSPC", () => {
    const quote = byName("automata-tdx-v4");
    const other = byName("gotdx-tdx-v5");
    const collateral = {
      ...col(other.name),
      pckCrl: col(quote.name).pckCrl,
      rootCaCrl: col(quote.name).rootCaCrl,
    };
    const at = new Date("2025-06-20T00:00:00Z");
    const mixed = { ...col(quote.name), tcbInfo: col("phala-tdx-v4").tcbInfo };
    assert.equal(
      codeOf(() => verifier.verify(quote.quote, mixed, at)),
      "ERR_DCAP_COLLATERAL_MISMATCH",
    );
    assert.notEqual(
      codeOf(() => verifier.verify(quote.quote, collateral, at)),
      "accepted",
    );
  });

  it("rejects SGX collateral for a TDX quote and the other way round", () => {
    const tdx = byName("phala-tdx-v4");
    const sgx = byName("phala-sgx-v3");
    const at = new Date("2025-07-01T00:00:00Z");
    assert.equal(
      codeOf(() => verifier.verify(tdx.quote, { ...col(tdx.name), tcbInfo: col(sgx.name).tcbInfo }, at)),
      "ERR_DCAP_COLLATERAL_MISMATCH",
    );
    assert.equal(
      codeOf(() =>
        verifier.verify(sgx.quote, { ...col(sgx.name), qeIdentity: col(tdx.name).qeIdentity }, at),
      ),
      "ERR_DCAP_COLLATERAL_MISMATCH",
    );
  });

  it("requires the PCK chain's names QVL requires (PCK leaf, then a CA)", () => {
    const v = byName("automata-sgx-v3");
    const json = JSON.parse(v.collateralText);
    const pem = (text: string) =>
      text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
    const [leaf, ca, rootPem] = pem(
      new TextDecoder().decode(readFileSync(vectorFile(v.name, "pck_chain.pem"))),
    );
    const [tcbSigning] = pem(json.tcb_info_issuer_chain);
    assert.ok(leaf && ca && rootPem && tcbSigning);
    // The certification data is not signed by the attestation key: swap the chain in the quote.
    for (const chain of [
      [tcbSigning, ca, rootPem],
      [leaf, tcbSigning, rootPem],
    ]) {
      const code = codeOf(() => verifier.verify(withPckChain(v.quote, chain.join("")), col(v.name), v.at));
      assert.equal(code, "ERR_DCAP_PCK_CHAIN_INVALID");
    }
    assert.equal(
      verifier.verify(withPckChain(v.quote, [leaf, ca, rootPem].join("")), col(v.name), v.at).tcbStatus,
      "SWHardeningNeeded",
      "the same chain swapped back in verifies",
    );
  });

  it("requires the TCB Signing chain QVL requires (two certificates, an SGX TCB Signing certificate)", () => {
    const v = byName("automata-sgx-v3");
    const json = JSON.parse(v.collateralText);
    const blocks: string[] = json.tcb_info_issuer_chain.match(
      /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g,
    );
    const pckCrlChain: string = json.pck_crl_issuer_chain; // PCK Platform CA, root: a CA, not TCB Signing
    for (const chain of [blocks[0] as string, blocks.join("") + (blocks[1] as string), pckCrlChain]) {
      for (const field of ["tcb_info_issuer_chain", "qe_identity_issuer_chain"]) {
        const doc = parseCollateralJson(JSON.stringify({ ...json, [field]: chain }));
        assert.equal(
          codeOf(() => verifier.verify(v.quote, doc, v.at)),
          "ERR_DCAP_TCB_SIGNING_CHAIN_INVALID",
          field,
        );
      }
    }
  });

  it("4.1.2.4.12–13: a changed QE report, QE report signature, QE auth data or attestation key", () => {
    const v = byName("automata-sgx-v3");
    const q = parseDcapQuote(v.quote);
    const offset = (part: Uint8Array) => part.byteOffset - v.quote.byteOffset;
    const flip = (at: number) => {
      const bad = v.quote.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      return codeOf(() => createDcapVerifier().verify(bad, col(v.name), v.at));
    };
    const sig = q.signatureData;
    assert.equal(flip(offset(sig.qeReportBytes) + 200), "ERR_DCAP_QE_REPORT_SIGNATURE_INVALID");
    assert.equal(flip(offset(sig.qeReportSignature) + 10), "ERR_DCAP_QE_REPORT_SIGNATURE_INVALID");
    assert.equal(flip(offset(sig.qeAuthData)), "ERR_DCAP_QE_REPORT_DATA_MISMATCH");
    assert.equal(flip(offset(sig.attestationKey) + 5), "ERR_DCAP_QE_REPORT_DATA_MISMATCH");
  });

  it("a warm verifier re-checks everything when the signature data differs from what it verified", () => {
    const v = byName("automata-sgx-v3");
    const warm = createDcapVerifier();
    assert.equal(warm.verify(v.quote, col(v.name), v.at).tcbStatus, "SWHardeningNeeded");
    const q = parseDcapQuote(v.quote);
    const authAt = q.signatureData.qeAuthData.byteOffset - v.quote.byteOffset;
    // Same QE report and signature (so the same cache slot), another QE auth data byte.
    const bad = v.quote.slice();
    bad[authAt] = (bad[authAt] ?? 0) ^ 0x01;
    assert.equal(
      codeOf(() => warm.verify(bad, col(v.name), v.at)),
      "ERR_DCAP_QE_REPORT_DATA_MISMATCH",
    );
    // The cache holds a copy of what it verified: changing the caller's buffer afterwards is seen.
    const mine = v.quote.slice();
    assert.equal(warm.verify(mine, col(v.name), v.at).tcbStatus, "SWHardeningNeeded");
    mine[authAt] = (mine[authAt] ?? 0) ^ 0x01;
    assert.equal(
      codeOf(() => warm.verify(mine, col(v.name), v.at)),
      "ERR_DCAP_QE_REPORT_DATA_MISMATCH",
    );
    mine[authAt] = (mine[authAt] ?? 0) ^ 0x01;
    assert.equal(warm.verify(mine, col(v.name), v.at).tcbStatus, "SWHardeningNeeded");
  });

  it("4.1.2.4.2: header fields QVL's Quote::validate refuses, each with its code", () => {
    const v = byName("automata-sgx-v3");
    const edited = (at: number, value: number) => {
      const bad = v.quote.slice();
      bad[at] = value;
      return codeOf(() => parseDcapQuote(bad));
    };
    assert.equal(edited(0, 6), "ERR_DCAP_UNSUPPORTED", "version 6");
    assert.equal(edited(2, 3), "ERR_DCAP_UNSUPPORTED", "attestation key type 3 (P-384)");
    assert.equal(edited(4, 0x80), "ERR_DCAP_UNSUPPORTED", "TEE type 0x80");
    assert.equal(edited(4, 0x81), "ERR_DCAP_MALFORMED", "a v3 quote of TEE type TDX");
    assert.equal(edited(12, 0x00), "ERR_DCAP_UNSUPPORTED", "another QE vendor");
    const q = parseDcapQuote(v.quote);
    const typeAt =
      q.signatureData.qeAuthData.byteOffset - v.quote.byteOffset + q.signatureData.qeAuthData.byteLength;
    assert.equal(edited(typeAt, 4), "ERR_DCAP_UNSUPPORTED", "certification data type 4");
    const tdx = byName("gotdx-tdx-v5");
    const td = tdx.quote.slice(0, tdx.expected.quote.bytes_used);
    td[48] = 1; // v5 body type 1 (SGX) in a TDX quote
    assert.equal(
      codeOf(() => parseDcapQuote(td)),
      "ERR_DCAP_MALFORMED",
    );
  });

  it("rejects every truncation of the real data", () => {
    for (const v of vectors) {
      const used = v.expected.quote.bytes_used as number;
      for (let n = 0; n < used; n++) {
        assert.throws(
          () => parseDcapQuote(v.quote.subarray(0, n)),
          { code: "ERR_BYTES_TRUNCATED" },
          `${v.name} at ${n}`,
        );
      }
    }
  });

  it("accepts zero padding and counts it, rejects a non-zero trailer", () => {
    const padded = byName("automata-tdx-v4");
    assert.equal(parseDcapQuote(padded.quote).padding, 3065);
    assert.equal(parseDcapQuote(byName("phala-tdx-v4").quote).padding, 70);
    // go-tdx-guest appended "\nextra bytes(only for testing purpose)\n" to this quote.
    assert.throws(() => parseDcapQuote(byName("gotdx-tdx-v4-spr").quote), { code: "ERR_BYTES_TRAILING" });
    const dirty = padded.quote.slice();
    dirty[dirty.length - 1] = 1;
    assert.throws(() => parseDcapQuote(dirty), { code: "ERR_BYTES_TRAILING" });
  });

  it("refuses a chain that does not end at a pinned anchor", () => {
    const v = byName("automata-sgx-v3");
    const [tcbSigning] = parsePemCertificates(JSON.parse(v.collateralText).tcb_info_issuer_chain);
    assert.ok(tcbSigning);
    const stranger = createDcapVerifier({ anchors: [{ certificate: tcbSigning, platform: "hardware" }] });
    assert.equal(
      codeOf(() => stranger.verify(v.quote, col(v.name), v.at)),
      "ERR_X509_UNTRUSTED_ROOT",
    );
  });

  it("pins the Intel root by its fingerprint", () => {
    assert.equal(
      toHex(intelTrustAnchor().certificate.fingerprint256),
      "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",
    );
  });

  it("throws nothing but KeywardError for mutated quotes", () => {
    const v = byName("phala-sgx-v3");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(v.quote.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const bad = v.quote.slice();
          for (const [at, value] of edits) bad[at] = value;
          try {
            verifier.verify(bad, col(v.name), v.at);
          } catch (e) {
            if (!(e instanceof KeywardError)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("throws nothing but KeywardError for arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        try {
          parseDcapQuote(bytes);
        } catch (e) {
          if (!(e instanceof KeywardError)) throw e;
        }
      }),
    );
  });
});

// A v3 quote with another PCK chain (certification data type 5) in place of its own.
function withPckChain(quote: Uint8Array, pem: string): Uint8Array {
  const q = parseDcapQuote(quote);
  const signedLength = q.signed.byteLength;
  const chain = new TextEncoder().encode(pem);
  // v3 signature data: signature, key, QE report, QE report signature, auth data, type, size, data.
  const head = 64 + 64 + 384 + 64 + 2 + q.signatureData.qeAuthData.byteLength + 2;
  const out = new Uint8Array(signedLength + 4 + head + 4 + chain.byteLength);
  const view = new DataView(out.buffer);
  out.set(quote.subarray(0, signedLength + 4 + head));
  view.setUint32(signedLength, head + 4 + chain.byteLength, true);
  view.setUint32(signedLength + 4 + head, chain.byteLength, true);
  out.set(chain, signedLength + 4 + head + 4);
  return out;
}

describe("collateral sources", () => {
  it("cuts the signed bodies out of Intel PCS responses byte for byte", () => {
    for (const v of vectors) {
      let tcbResponse: string;
      let qeResponse: string;
      try {
        tcbResponse = readFileSync(vectorFile(v.name, "tcb_info_response.json"), "utf8");
        qeResponse = readFileSync(vectorFile(v.name, "qe_identity_response.json"), "utf8");
      } catch {
        continue; // not every source shipped the PCS responses (MANIFEST)
      }
      const json = JSON.parse(v.collateralText);
      const c = collateralFromPcs({
        tcbInfoResponse: tcbResponse,
        tcbInfoIssuerChain: json.tcb_info_issuer_chain,
        qeIdentityResponse: qeResponse,
        qeIdentityIssuerChain: json.qe_identity_issuer_chain,
        pckCrl: col(v.name).pckCrl,
        pckCrlIssuerChain: json.pck_crl_issuer_chain,
        rootCaCrl: col(v.name).rootCaCrl,
      });
      assert.deepEqual(c.tcbInfo.body, new Uint8Array(readFileSync(vectorFile(v.name, "tcb_info.json"))));
      assert.deepEqual(
        c.qeIdentity.body,
        new Uint8Array(readFileSync(vectorFile(v.name, "qe_identity.json"))),
      );
      if (v.expected.expected_intel_qvl_semantics.status !== undefined) {
        assert.equal(
          verifier.verify(v.quote, c, v.at).tcbStatus,
          v.expected.expected_intel_qvl_semantics.status,
        );
      }
    }
  });

  it("rejects malformed collateral documents with a code", () => {
    assert.throws(() => parseCollateralJson("{"), { code: "ERR_DCAP_COLLATERAL_MALFORMED" });
    assert.throws(() => parseCollateralJson("{}"), { code: "ERR_DCAP_COLLATERAL_MALFORMED" });
    const json = JSON.parse(byName("automata-sgx-v3").collateralText);
    assert.throws(() => parseCollateralJson(JSON.stringify({ ...json, tcb_info_signature: "00" })), {
      code: "ERR_DCAP_COLLATERAL_MALFORMED",
    });
  });
});
