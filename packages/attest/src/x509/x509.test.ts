import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { dcapVectors, vectorFile } from "../../test/dcap-vectors.ts";
import { toHex } from "../bytes/hex.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { parseCertificate, parsePemCertificates } from "./certificate.ts";
import { verifyCertificateChain } from "./chain.ts";
import { parseCrl, verifyCrl } from "./crl.ts";
import { DerReader } from "./der.ts";
import { parsePckExtensions } from "./pck-extensions.ts";
import { createSignatureCache } from "./signature-cache.ts";

const vectors = dcapVectors();
const root = parsePemCertificates(readFileSync(vectorFile(".", "intel-sgx-root-ca.pem"), "utf8"))[0];
assert.ok(root);
const chainOf = (name: string) =>
  parsePemCertificates(readFileSync(vectorFile(name, "pck_chain.pem"), "utf8"));
const crlsOf = (name: string) => [
  parseCrl(readFileSync(vectorFile(name, "root_ca_crl.der"))),
  parseCrl(readFileSync(vectorFile(name, "pck_crl.der"))),
];

describe("X.509 on Intel's real PKI", () => {
  it("pins the Intel SGX Root CA by its SHA-256", () => {
    assert.equal(
      toHex(root.fingerprint256),
      "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",
    );
    assert.equal(root.serialNumber, "22650cd65a9d3489f383b49552bf501b392706ac");
    assert.ok(root.isCa);
  });

  it("validates every PCK chain and collateral issuer chain, with both CRLs, at verify_at", () => {
    for (const v of vectors) {
      const crls = crlsOf(v.name);
      const r = verifyCertificateChain(chainOf(v.name), { anchors: [root], at: v.at, crls });
      assert.equal(r.anchor, root);
      assert.equal(r.path.length, 2);
      const json = JSON.parse(v.collateralText);
      for (const field of ["tcb_info_issuer_chain", "qe_identity_issuer_chain", "pck_crl_issuer_chain"]) {
        verifyCertificateChain(parsePemCertificates(json[field]), {
          anchors: [root],
          at: v.at,
          crls: [crls[0] as never],
        });
      }
    }
  });

  it("reads the PCK SGX extension as expected.json says", () => {
    for (const v of vectors) {
      const p = parsePckExtensions(chainOf(v.name)[0] as never);
      const e = v.expected.pck;
      assert.equal(toHex(p.fmspc), e.fmspc, v.name);
      assert.equal(toHex(p.pceId), e.pceid, v.name);
      assert.equal(p.tcb.pceSvn, e.pcesvn, v.name);
      assert.equal(toHex(p.tcb.cpuSvn), e.cpusvn, v.name);
      assert.equal(toHex(p.ppid), e.ppid, v.name);
      assert.equal(p.sgxType, e.sgx_type, v.name);
      assert.equal(chainOf(v.name)[0]?.serialNumber, e.serial, v.name);
    }
  });

  it("refuses a PCK certificate without the SGX extension (QVL STATUS_INVALID_PCK_CERT)", () => {
    assert.throws(() => parsePckExtensions(root), { code: "ERR_PCK_EXTENSION_MALFORMED" });
  });

  it("rejects times outside any certificate's or CRL's window", () => {
    const v = vectors[0];
    assert.ok(v);
    const crls = crlsOf(v.name);
    assert.throws(
      () =>
        verifyCertificateChain(chainOf(v.name), { anchors: [root], at: new Date("2017-01-01T00:00:00Z") }),
      {
        code: "ERR_X509_EXPIRED",
      },
    );
    assert.throws(
      () =>
        verifyCertificateChain(chainOf(v.name), { anchors: [root], at: new Date("2051-01-01T00:00:00Z") }),
      {
        code: "ERR_X509_EXPIRED",
      },
    );
    const pckCa = chainOf(v.name)[1];
    assert.ok(pckCa);
    const crl = crls[1];
    assert.ok(crl);
    assert.throws(() => verifyCrl(crl, pckCa, new Date(crl.thisUpdate.getTime() - 1000)), {
      code: "ERR_CRL_EXPIRED",
    });
    assert.throws(() => verifyCrl(crl, pckCa, new Date(crl.nextUpdate.getTime() + 1000)), {
      code: "ERR_CRL_EXPIRED",
    });
    assert.throws(() => verifyCrl(crl, root, v.at), { code: "ERR_CRL_ISSUER_MISMATCH" });
  });

  it("finds revoked serials in Intel's PCK CRLs", () => {
    const crl = crlsOf("automata-sgx-v3")[1];
    assert.ok(crl);
    assert.ok(crl.revokedSerials.size > 0);
    for (const s of crl.revokedSerials) assert.match(s, /^[0-9a-f]+$/);
  });

  it("refuses a CRL without cRLNumber or authorityKeyIdentifier (RFC 5280 §5.2; QVL CRL_REQUIRED_EXTENSIONS)", () => {
    const der = new Uint8Array(readFileSync(vectorFile("automata-sgx-v3", "pck_crl.der")));
    assert.ok(parseCrl(der).extensionOids.length >= 2);
    // Rename one extension's OID (same length, so the DER stays well formed): 2.5.29.20 → .21,
    // 2.5.29.35 → .36.
    for (const [from, what] of [
      [0x14, /cRLNumber/],
      [0x23, /authorityKeyIdentifier/],
    ] as const) {
      const edited = der.slice();
      const at = Buffer.from(edited).indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, from]));
      assert.ok(at > 0);
      edited[at + 4] = from + 1;
      assert.throws(() => parseCrl(edited), { code: "ERR_CRL_MALFORMED", message: what });
    }
  });

  it("rejects a flipped signature byte and a flipped TBS byte", () => {
    const v = vectors[0];
    assert.ok(v);
    const [leaf, ca] = chainOf(v.name);
    assert.ok(leaf && ca);
    for (const at of [leaf.der.byteLength - 5, 200]) {
      const der = leaf.der.slice();
      der[at] = (der[at] ?? 0) ^ 0x01;
      let cert: ReturnType<typeof parseCertificate>;
      try {
        cert = parseCertificate(der);
      } catch (e) {
        assert.ok(e instanceof KeywardError);
        continue;
      }
      assert.throws(() => verifyCertificateChain([cert, ca, root], { anchors: [root], at: v.at }), {
        code: "ERR_X509_SIGNATURE_INVALID",
      });
    }
  });

  it("refuses a chain that ends elsewhere than at an anchor", () => {
    const v = vectors[0];
    assert.ok(v);
    const [leaf, ca] = chainOf(v.name);
    assert.ok(leaf && ca);
    assert.throws(() => verifyCertificateChain([leaf, ca, root], { anchors: [ca], at: v.at }), {
      code: "ERR_X509_UNTRUSTED_ROOT",
    });
    assert.throws(() => verifyCertificateChain([leaf], { anchors: [], at: v.at }), {
      code: "ERR_X509_UNTRUSTED_ROOT",
    });
    assert.throws(() => verifyCertificateChain([leaf, root], { anchors: [root], at: v.at }), {
      code: "ERR_X509_PATH_INVALID",
    });
  });

  it("caches signature results and gives the same answers warm", () => {
    const cache = createSignatureCache(16);
    const v = vectors[0];
    assert.ok(v);
    const opts = { anchors: [root], at: v.at, crls: crlsOf(v.name), cache };
    verifyCertificateChain(chainOf(v.name), opts);
    const size = cache.size;
    assert.ok(size >= 4);
    verifyCertificateChain(chainOf(v.name), opts);
    assert.equal(cache.size, size);
    assert.throws(
      () => verifyCertificateChain(chainOf(v.name), { ...opts, at: new Date("2051-01-01T00:00:00Z") }),
      {
        code: /^ERR_(X509|CRL)_EXPIRED$/,
      },
    );
  });

  it("hits the signature cache only for the same signer object, signature and signed bytes", () => {
    const cache = createSignatureCache(4);
    const signer = {};
    let calls = 0;
    const check = () => {
      calls++;
      return true;
    };
    const signed = Uint8Array.of(1, 2, 3);
    const sig = Uint8Array.of(9, 9);
    cache.check(signer, signed, sig, check);
    signed[0] = 7; // the caller reuses its buffer: the entry holds a copy of what was checked
    cache.check(signer, Uint8Array.of(1, 2, 3), Uint8Array.of(9, 9), check);
    assert.equal(calls, 1, "same signer, equal bytes: cached");
    cache.check(signer, signed, sig, check);
    assert.equal(calls, 2, "the changed bytes are checked");
    cache.check({}, signed, sig, check);
    cache.check(signer, Uint8Array.of(7, 2, 3), Uint8Array.of(9, 8), check);
    assert.equal(calls, 4, "another signer, another signature: checked");
  });

  it("rejects every truncation of a certificate and of a CRL with a code", () => {
    const leaf = chainOf("phala-sgx-v3")[0];
    assert.ok(leaf);
    const crlDer = new Uint8Array(readFileSync(vectorFile("phala-sgx-v3", "root_ca_crl.der")));
    for (let n = 0; n < leaf.der.byteLength; n++) {
      assert.throws(
        () => parseCertificate(leaf.der.subarray(0, n)),
        (e: unknown) => e instanceof KeywardError,
      );
    }
    for (let n = 0; n < crlDer.byteLength; n++) {
      assert.throws(
        () => parseCrl(crlDer.subarray(0, n)),
        (e: unknown) => e instanceof KeywardError,
      );
    }
    assert.throws(() => parseCertificate(Uint8Array.of(...leaf.der, 0)), { code: "ERR_DER_MALFORMED" });
  });

  it("throws nothing but KeywardError for mutated DER", () => {
    const leaf = chainOf("automata-tdx-v4")[0];
    const crlDer = new Uint8Array(readFileSync(vectorFile("automata-tdx-v4", "pck_crl.der")));
    assert.ok(leaf);
    for (const [der, parse] of [
      [leaf.der, (b: Uint8Array) => parsePckExtensions(parseCertificate(b))],
      [crlDer, parseCrl],
    ] as const) {
      fc.assert(
        fc.property(fc.nat(der.byteLength - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
          const bad = der.slice();
          bad[at] = value;
          try {
            parse(bad);
          } catch (e) {
            if (!(e instanceof KeywardError)) throw e;
          }
        }),
        { numRuns: 2000 },
      );
    }
  });
});

describe("strict DER", () => {
  const read = (...b: number[]) => new DerReader(Uint8Array.from(b), "test");
  it("rejects indefinite, non-minimal and over-long lengths", () => {
    assert.throws(() => read(0x30, 0x80, 0, 0).any(), { code: "ERR_DER_MALFORMED" });
    assert.throws(() => read(0x04, 0x81, 0x05, 1, 2, 3, 4, 5).any(), { code: "ERR_DER_MALFORMED" });
    assert.throws(() => read(0x04, 0x85, 0, 0, 0, 0, 1, 0).any(), { code: "ERR_DER_MALFORMED" });
  });
  it("rejects non-canonical INTEGER and BOOLEAN, and multi-byte tags", () => {
    assert.throws(() => read(0x02, 0x02, 0x00, 0x01).unsignedInteger("i"), { code: "ERR_DER_MALFORMED" });
    assert.throws(() => read(0x01, 0x01, 0x01).boolean("b"), { code: "ERR_DER_MALFORMED" });
    assert.throws(() => read(0x1f, 0x81, 0x01, 0x00).any(), { code: "ERR_DER_MALFORMED" });
  });
  it("reads UTCTime and GeneralizedTime in Zulu only, and refuses impossible dates", () => {
    const time = (tag: number, text: string) =>
      read(tag, text.length, ...[...text].map((c) => c.charCodeAt(0))).time("t");
    assert.equal(time(0x17, "250701120000Z").toISOString(), "2025-07-01T12:00:00.000Z");
    assert.equal(time(0x17, "490101000000Z").getUTCFullYear(), 2049);
    assert.equal(time(0x17, "500101000000Z").getUTCFullYear(), 1950);
    assert.equal(time(0x18, "20491231235959Z").toISOString(), "2049-12-31T23:59:59.000Z");
    for (const [tag, text] of [
      [0x17, "250701120000"],
      [0x17, "2507011200Z"],
      [0x18, "20250701120000.5Z"],
      [0x17, "251301120000Z"],
      [0x17, "250230120000Z"],
      [0x17, "250701126000Z"],
      [0x17, "25070112000aZ"],
      [0x04, "250701120000Z"],
    ] as const) {
      assert.throws(() => time(tag, text), { code: "ERR_DER_MALFORMED" }, text);
    }
  });

  it("decodes OIDs and rejects non-minimal arcs", () => {
    assert.equal(read(0x06, 0x03, 0x55, 0x1d, 0x13).oid("o"), "2.5.29.19");
    assert.throws(() => read(0x06, 0x02, 0x80, 0x01).oid("o"), { code: "ERR_DER_MALFORMED" });
  });
});
