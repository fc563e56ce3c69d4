import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { fromHex, toHex } from "../bytes/hex.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { type CborValue, decodeCbor, encodeCbor } from "./cbor.ts";

// RFC 8949 Appendix A, the items of the accepted subset.
const APPENDIX_A: [string, CborValue][] = [
  ["00", 0],
  ["01", 1],
  ["0a", 10],
  ["17", 23],
  ["1818", 24],
  ["1864", 100],
  ["1903e8", 1000],
  ["1a000f4240", 1000000],
  ["1b000000e8d4a51000", 1000000000000],
  ["1bffffffffffffffff", 18446744073709551615n],
  ["20", -1],
  ["29", -10],
  ["3863", -100],
  ["3903e7", -1000],
  ["f4", false],
  ["f5", true],
  ["f6", null],
  ["40", new Uint8Array()],
  ["4401020304", Uint8Array.of(1, 2, 3, 4)],
  ["60", ""],
  ["6161", "a"],
  ["6449455446", "IETF"],
  ["62225c", '"\\'],
  ["62c3bc", "ü"],
  ["80", []],
  ["83010203", [1, 2, 3]],
  ["8301820203820405", [1, [2, 3], [4, 5]]],
  ["a0", new Map()],
  [
    "a201020304",
    new Map([
      [1, 2],
      [3, 4],
    ]),
  ],
  [
    "a26161016162820203",
    new Map<string | number, CborValue>([
      ["a", 1],
      ["b", [2, 3]],
    ]),
  ],
  ["c074323031332d30332d32315432303a30343a30305a", { tag: 0, value: "2013-03-21T20:04:00Z" }],
  ["d9ea6082410140", { tag: 60000, value: [Uint8Array.of(1), Uint8Array.of()] }],
];

describe("CBOR", () => {
  for (const [hex, value] of APPENDIX_A) {
    it(`decodes and encodes ${hex}`, () => {
      assert.deepEqual(decodeCbor(fromHex(hex)), value);
      assert.equal(toHex(encodeCbor(value)), hex);
    });
  }

  it("refuses floats, indefinite lengths, duplicate keys, bad UTF-8 and trailing bytes", () => {
    for (const hex of [
      "f93c00",
      "fb3ff199999999999a",
      "5f42010243030405ff",
      "9fff",
      "a201020103",
      "62c328",
      "0000",
      "1c",
    ]) {
      assert.throws(
        () => decodeCbor(fromHex(hex)),
        (e: unknown) => e instanceof KeywardError,
        hex,
      );
    }
  });

  it("rejects every truncation with ERR_BYTES_TRUNCATED", () => {
    const item = fromHex("a26161016162820203");
    for (let n = 0; n < item.length; n++)
      assert.throws(() => decodeCbor(item.subarray(0, n)), { code: "ERR_BYTES_TRUNCATED" });
  });

  it("limits depth and declared lengths", () => {
    assert.throws(() => decodeCbor(new Uint8Array(40).fill(0x81)), { code: "ERR_CBOR_INVALID" });
    assert.throws(() => decodeCbor(fromHex("5affffffff")), { code: "ERR_BYTES_LIMIT" });
  });

  it("throws nothing but KeywardError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decodeCbor(b);
        } catch (e) {
          if (!(e instanceof KeywardError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
