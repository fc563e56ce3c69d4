import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import fc from "fast-check";
import { parseSigstruct, sigstructFromSgxMetadata, verifySigstruct } from "./index.ts";

const DIR = fileURLToPath(new URL("../../../attest/test/vectors/sigstruct/", import.meta.url));
const oracle = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")).vectors as {
  file: string;
  fields: {
    isvprodid: number;
    isvsvn: number;
    attributes_hex: string;
    date: { date: string; format: string };
  };
  computed: { mrenclave: string; mrsigner: string };
}[];
const read = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));

describe("SIGSTRUCT, on the 13 real files", () => {
  for (const v of oracle) {
    it(`${v.file}: parses, verifies and matches expected.json`, () => {
      const s = parseSigstruct(read(v.file));
      verifySigstruct(s);
      assert.equal(toHex(s.mrEnclave), v.computed.mrenclave);
      assert.equal(toHex(s.mrSigner), v.computed.mrsigner);
      assert.equal(s.isvProdId, v.fields.isvprodid);
      assert.equal(s.isvSvn, v.fields.isvsvn);
      assert.equal(toHex(s.attributes), v.fields.attributes_hex);
      assert.equal(s.date.iso, v.fields.date.date);
      assert.equal(s.date.encoding, v.fields.date.format.startsWith("legacy") ? "legacy" : "bcd");
    });
  }

  it("uses the big-endian signature and digest Fortanix published", () => {
    const s = parseSigstruct(read("fortanix-sig1.sig"));
    assert.deepEqual(Uint8Array.from(s.signature).reverse(), read("fortanix-sig1.signature-be.bin"));
    assert.deepEqual(
      new Uint8Array(createHash("sha256").update(s.signed).digest()),
      read("fortanix-sig1.signed-digest.bin"),
    );
  });

  it("finds the SIGSTRUCT in SGX SDK ELF metadata (unpadded note name)", () => {
    for (const name of [
      "auditee-hashmachine",
      "auditee-iot-gateway",
      "auditee-sgx-hash",
      "intel-pce-2024-08-11",
    ]) {
      assert.deepEqual(sigstructFromSgxMetadata(read(`${name}.sgxmeta.bin`)), read(`${name}.sig`), name);
    }
  });

  it("rejects every truncation of SGX metadata with a code", () => {
    const meta = read("auditee-sgx-hash.sgxmeta.bin");
    for (let n = 0; n < 25 + 64 + 1808; n++) {
      assert.throws(
        () => sigstructFromSgxMetadata(meta.subarray(0, n)),
        (e: unknown) => e instanceof KeywardError,
        `at ${n}`,
      );
    }
  });

  it("fails the signature for every flipped signed byte, and Q1/Q2 for the unsigned tail", () => {
    const good = read("auditee-hashmachine.sig");
    for (const at of [0, 16, 20, 127, 128, 300, 516, 700, 900, 928, 960, 1024, 1027]) {
      const bad = good.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      let code = "accepted";
      try {
        verifySigstruct(parseSigstruct(bad));
      } catch (e) {
        code = (e as KeywardError).code;
      }
      assert.match(code, /^ERR_SIGSTRUCT_(SIGNATURE_INVALID|MALFORMED)$/, `byte ${at}`);
    }
    for (const at of [1040, 1500, 1807]) {
      const bad = good.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      assert.throws(
        () => verifySigstruct(parseSigstruct(bad)),
        { code: "ERR_SIGSTRUCT_SIGNATURE_INVALID" },
        `byte ${at}`,
      );
    }
    const reserved = good.slice();
    reserved[1030] = 1;
    assert.throws(() => parseSigstruct(reserved), { code: "ERR_SIGSTRUCT_MALFORMED" });
  });

  it("rejects bad headers, other sizes, and any exponent but 3", () => {
    const good = read("intel-le-2018-01-22.sig");
    const header = good.slice();
    header[1] = 1;
    assert.throws(() => parseSigstruct(header), { code: "ERR_SIGSTRUCT_MALFORMED" });
    const exponent = good.slice();
    exponent[512] = 65;
    assert.throws(() => parseSigstruct(exponent), { code: "ERR_SIGSTRUCT_MALFORMED" });
    for (const n of [0, 1807, 1809]) {
      const b = new Uint8Array(n);
      b.set(good.subarray(0, Math.min(n, good.length)));
      assert.throws(() => parseSigstruct(b), { code: "ERR_SIGSTRUCT_MALFORMED" });
    }
  });

  it("throws nothing but KeywardError for mutated files", () => {
    const good = read("gramine-xchain-test-2026.sig");
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const bad = good.slice();
        bad[at] = value;
        try {
          verifySigstruct(parseSigstruct(bad));
        } catch (e) {
          if (!(e instanceof KeywardError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});
