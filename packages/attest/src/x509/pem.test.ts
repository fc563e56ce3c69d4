import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { vectorFile } from "../../test/dcap-vectors.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { pemBlocks, toPem } from "./pem.ts";

const chain = readFileSync(vectorFile("automata-sgx-v3", "pck_chain.pem"), "utf8");
const invalid = (message: RegExp) => ({ code: "ERR_ENCODING_INVALID", message });

describe("strict PEM", () => {
  it("reads the blocks of a real PCK chain, in order, and round-trips them", () => {
    const ders = pemBlocks(chain, "CERTIFICATE", 4);
    assert.equal(ders.length, 3);
    assert.equal(ders.map((d) => toPem(d, "CERTIFICATE")).join(""), chain.replace(/\0+$/, ""));
    // DCAP certification data ends with a NUL; whitespace between blocks is fine.
    assert.equal(pemBlocks(`\n${chain}\0`, "CERTIFICATE", 4).length, 3);
  });

  it("refuses text around or between blocks, other labels, bad base64, no end line, too many blocks", () => {
    const [a = "", b = ""] =
      chain.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
    assert.throws(() => pemBlocks(`${a}junk\n${b}`, "CERTIFICATE", 4), invalid(/between/));
    assert.throws(() => pemBlocks(`${a}trailer`, "CERTIFICATE", 4), invalid(/after the last/));
    assert.throws(
      () => pemBlocks(a.replaceAll("CERTIFICATE", "PRIVATE KEY"), "CERTIFICATE", 4),
      invalid(/label/),
    );
    assert.throws(() => pemBlocks(a.replace("MII", "M*I"), "CERTIFICATE", 4), invalid(/base64/));
    assert.throws(() => pemBlocks(a.replace("MII", "MIIA"), "CERTIFICATE", 4), invalid(/base64/));
    assert.throws(
      () => pemBlocks(a.replace("-----END CERTIFICATE-----", ""), "CERTIFICATE", 4),
      invalid(/end line/),
    );
    assert.throws(() => pemBlocks(a + b, "CERTIFICATE", 1), invalid(/more than 1/));
    assert.throws(() => pemBlocks("", "CERTIFICATE", 4), invalid(/no CERTIFICATE/));
    assert.throws(() => pemBlocks("-----BEGIN -----", "CERTIFICATE", 4), invalid(/label/));
  });

  it("throws nothing but KeywardError on arbitrary text around PEM markers", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.constantFrom("-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", "-----", "\n"),
          ),
        ),
        (parts) => {
          try {
            pemBlocks(parts.join(""), "CERTIFICATE", 4);
          } catch (e) {
            assert.ok(e instanceof KeywardError, String(e));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
