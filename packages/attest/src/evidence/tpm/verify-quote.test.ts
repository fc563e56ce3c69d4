import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { toHex } from "../../bytes/hex.ts";
import { sha256 } from "../../crypto/digest.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { parseTpmQuoteAttest } from "./attest.ts";
import { TPM_ALG } from "./constants.ts";
import { parsePcrList } from "./pcr.ts";
import { parseTpm2bPublic, qualifiedName } from "./public-area.ts";
import { parseTpmtSignature } from "./signature.ts";
import { diagnoseTpmQuote, type TpmQuoteCheck, verifyTpmQuote } from "./verify-quote.ts";

const DIR = fileURLToPath(new URL("../../../test/vectors/tpm/", import.meta.url));
const file = (v: string, f: string) => new Uint8Array(readFileSync(join(DIR, v, f)));
const vectors = readdirSync(DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== "tpm-identity")
  .map((e) => ({
    name: e.name,
    expected: JSON.parse(readFileSync(join(DIR, e.name, "expected.json"), "utf8")),
  }));

/** The check a vector's MANIFEST binding asks for. */
function checkFor(name: string, binding: string): TpmQuoteCheck {
  const nonce = file(name, "nonce.bin");
  const certHash = sha256(file(name, "cert.der"));
  const pcrs = JSON.parse(readFileSync(join(DIR, name, "expected.json"), "utf8")).pcrs.sha256 as number[];
  const extraData =
    binding === "extradata-bound"
      ? sha256(nonce, certHash)
      : binding === "extradata-certhash"
        ? certHash
        : nonce;
  return {
    ak: parseTpm2bPublic(file(name, "ak.pub")),
    quote: file(name, "quote.msg"),
    signature: file(name, "quote.sig"),
    extraData,
    pcrSelection: parsePcrList(`sha256:${pcrs.join(",")}`),
    pcrValues: file(name, "pcrs.bin"),
    pcrPolicy:
      binding === "pcr23"
        ? [
            {
              hash: TPM_ALG.SHA256,
              index: 23,
              value: sha256(new Uint8Array(32), certHash),
              check: "pcr23MatchesCert",
            },
          ]
        : [],
  };
}

const failedCheck = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof KeywardError, String(e));
    return String(e.detail?.check ?? e.code);
  }
  return "accepted";
};

describe("TPM quote vectors (swtpm + tpm2-tools)", () => {
  it("has the ten vectors of the MANIFEST", () => assert.equal(vectors.length, 10));

  for (const { name, expected } of vectors) {
    it(`${name}: ${expected.valid ? "accept" : `reject (${expected.failure ?? ""})`}`, () => {
      const check = checkFor(name, expected.binding);
      const result = failedCheck(() => verifyTpmQuote(check));
      const manifest: Record<string, string> = {
        "neg-other-ak": "signature",
        "neg-tampered-message": "signature",
        "neg-wrong-cert": "pcr23MatchesCert",
        "neg-wrong-nonce": "extraData",
      };
      assert.equal(result, expected.valid ? "accepted" : manifest[name], name);
    });
  }

  it("fails exactly the checks the MANIFEST lists for each negative, and none for the positives", () => {
    const lists: Record<string, string[]> = {
      "neg-tampered-message": ["signature", "pcrDigest"],
      "neg-wrong-cert": ["pcr23MatchesCert"],
      "neg-wrong-nonce": ["extraData"],
      // qualifiedSigner is checked against the AK's expected qualified name (ak.qname).
      "neg-other-ak": ["signature", "qualifiedSigner"],
    };
    for (const { name, expected } of vectors) {
      const c = { ...checkFor(name, expected.binding), qualifiedSigner: file(name, "ak.qname") };
      assert.deepEqual(diagnoseTpmQuote(c), lists[name] ?? [], name);
    }
  });

  it("fails the other named checks of the negative vectors too", () => {
    // neg-other-ak: with the real signer's key, the signature passes and qualifiedSigner fails.
    const other = checkFor("neg-other-ak", "pcr23");
    const signer = parseTpm2bPublic(file("neg-other-ak", "actual-signer-ak.pub"));
    assert.equal(
      failedCheck(() =>
        verifyTpmQuote({ ...other, ak: signer, qualifiedSigner: file("neg-other-ak", "ak.qname") }),
      ),
      "qualifiedSigner",
    );
    // neg-tampered-message: the pcrDigest no longer matches the PCR values either.
    const tampered = parseTpmQuoteAttest(file("neg-tampered-message", "quote.msg"));
    assert.notEqual(toHex(tampered.pcrDigest), toHex(sha256(file("neg-tampered-message", "pcrs.bin"))));
  });

  it("computes the AK Name and qualified name tpm2-tools printed", () => {
    for (const { name } of vectors) {
      const ak = parseTpm2bPublic(file(name, "ak.pub"));
      assert.deepEqual(ak.name, file(name, "ak.name"), name);
      assert.equal(ak.attributes, 0x00050072);
    }
    const ek = parseTpm2bPublic(file("tpm-identity", "ek-rsa.pub"));
    const ak = parseTpm2bPublic(file("tpm-identity", "ak-ecc.pub"));
    const qnEk = qualifiedName(Uint8Array.of(0x40, 0, 0, 0x0b), ek);
    assert.deepEqual(qualifiedName(qnEk, ak), file("tpm-identity", "ak-ecc.qname"));
  });

  it("accepts the replayable certhash binding only as what it is: a binding without a nonce", () => {
    const c = checkFor("ecc-p256-extradata-certhash", "extradata-certhash");
    assert.equal(
      failedCheck(() => verifyTpmQuote(c)),
      "accepted",
    );
    assert.equal(
      failedCheck(() =>
        verifyTpmQuote({
          ...c,
          extraData: sha256(
            new Uint8Array(32).fill(7),
            sha256(file("ecc-p256-extradata-certhash", "cert.der")),
          ),
        }),
      ),
      "extraData",
    );
  });

  it("rejects a selection other than the one required, and a PCR missing from the report", () => {
    const c = checkFor("ecc-p256-pcr16-23", "pcr23");
    assert.equal(
      failedCheck(() => verifyTpmQuote({ ...c, pcrSelection: parsePcrList("sha256:23") })),
      "pcrSelection",
    );
    assert.equal(
      failedCheck(() =>
        verifyTpmQuote({ ...c, pcrValues: (c.pcrValues ?? new Uint8Array()).subarray(0, 32) }),
      ),
      "pcrDigest",
    );
  });

  it("rejects an AK without the restricted attribute, and a SHA-1 or foreign scheme", () => {
    const c = checkFor("ecc-p256-pcr23", "pcr23");
    const ak = parseTpm2bPublic(file("ecc-p256-pcr23", "ak.pub"));
    assert.equal(
      failedCheck(() => verifyTpmQuote({ ...c, ak: { ...ak, attributes: ak.attributes & ~(1 << 16) } })),
      "akAttributes",
    );
    assert.equal(
      failedCheck(() => verifyTpmQuote({ ...c, ak: { ...ak, attributes: ak.attributes | (1 << 17) } })),
      "akAttributes",
    );
    const sha1 = file("ecc-p256-pcr23", "quote.sig").slice();
    sha1[3] = 0x04;
    assert.equal(
      failedCheck(() => verifyTpmQuote({ ...c, signature: sha1 })),
      "scheme",
    );
  });

  it("checks the clock against the previous quote of the same AK", () => {
    const c = checkFor("ecc-p256-pcr23", "pcr23");
    const a = parseTpmQuoteAttest(c.quote);
    const prev = { clock: a.clock, resetCount: a.resetCount, restartCount: a.restartCount };
    assert.equal(
      failedCheck(() => verifyTpmQuote({ ...c, previous: prev })),
      "clock",
    );
    assert.equal(
      failedCheck(() => verifyTpmQuote({ ...c, previous: { ...prev, clock: a.clock - 1n } })),
      "accepted",
    );
    assert.equal(
      failedCheck(() => verifyTpmQuote({ ...c, previous: { ...prev, resetCount: a.resetCount + 1 } })),
      "clock",
    );
  });

  it("rejects every truncation and trailing byte of every structure", () => {
    const v = "rsa2048-extradata-bound";
    for (const [bytes, parse] of [
      [file(v, "quote.msg"), parseTpmQuoteAttest],
      [file(v, "quote.sig"), parseTpmtSignature],
      [file(v, "ak.pub"), parseTpm2bPublic],
      [file("ecc-p256-pcr23", "quote.sig"), parseTpmtSignature],
      [file("ecc-p256-pcr23", "ak.pub"), parseTpm2bPublic],
    ] as const) {
      for (let n = 0; n < bytes.byteLength; n++) {
        assert.throws(
          () => parse(bytes.subarray(0, n)),
          (e: unknown) => e instanceof KeywardError && /TRUNCATED|LIMIT|TPM_/.test(e.code),
        );
      }
      assert.throws(
        () => parse(Uint8Array.of(...bytes, 0)),
        (e: unknown) => e instanceof KeywardError,
      );
    }
  });

  it("throws nothing but KeywardError for mutated inputs", () => {
    const c = checkFor("ecc-p256-pcr16-23", "pcr23");
    for (const field of ["quote", "signature"] as const) {
      fc.assert(
        fc.property(fc.nat(c[field].byteLength - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
          const bad = c[field].slice();
          bad[at] = value;
          try {
            verifyTpmQuote({ ...c, [field]: bad });
          } catch (e) {
            if (!(e instanceof KeywardError)) throw e;
          }
        }),
        { numRuns: 1500 },
      );
    }
    const pub = file("rsa2048-pcr23", "ak.pub");
    fc.assert(
      fc.property(fc.nat(pub.byteLength - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const bad = pub.slice();
        bad[at] = value;
        try {
          parseTpm2bPublic(bad);
        } catch (e) {
          if (!(e instanceof KeywardError)) throw e;
        }
      }),
      { numRuns: 1500 },
    );
  });
});
