import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { KeywardError } from "../errors/keyward-error.ts";
import { ByteReader } from "./byte-reader.ts";

const SAMPLE = Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09);

describe("ByteReader", () => {
  it("reads both byte orders from a window of a larger buffer", () => {
    const big = new Uint8Array(20);
    big.set(SAMPLE, 5);
    const r = new ByteReader(big.subarray(5, 14), "sample");
    assert.equal(r.u16le(), 0x0201);
    assert.equal(r.u16be(), 0x0304);
    assert.equal(r.u32le(), 0x08070605);
    assert.equal(r.remaining, 1);
    assert.equal(r.u8(), 9);
    r.end();
  });

  it("reads 64-bit values as bigint", () => {
    const r = new ByteReader(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0, 0, 0, 0, 0, 0, 1), "u64");
    assert.equal(r.u64le(), 0x8000000000000001n);
    assert.equal(r.u64be(), 0x8000000000000001n);
  });

  it("refuses to read past the end with ERR_BYTES_TRUNCATED and does not move", () => {
    const r = new ByteReader(SAMPLE, "sample");
    r.bytes(8);
    assert.throws(() => r.u16le(), { code: "ERR_BYTES_TRUNCATED" });
    assert.equal(r.offset, 8);
    assert.throws(() => r.bytes(-1), { code: "ERR_BYTES_TRUNCATED" });
    assert.throws(() => r.bytes(1.5), { code: "ERR_BYTES_TRUNCATED" });
  });

  it("holds lengths to a ceiling", () => {
    const r = new ByteReader(SAMPLE, "sample");
    assert.equal(r.length(4, 4, "field"), 4);
    assert.throws(() => r.length(5, 4, "field"), { code: "ERR_BYTES_LIMIT" });
  });

  it("rejects trailing bytes at end()", () => {
    const r = new ByteReader(SAMPLE, "sample");
    r.bytes(8);
    assert.throws(() => r.end(), { code: "ERR_BYTES_TRAILING" });
  });

  it("accepts only zero padding and counts it", () => {
    const padded = new ByteReader(Uint8Array.of(7, 0, 0, 0), "padded");
    padded.u8();
    assert.equal(padded.zeroPadding(), 3);
    assert.equal(padded.remaining, 0);
    const dirty = new ByteReader(Uint8Array.of(7, 0, 1, 0), "dirty");
    dirty.u8();
    assert.throws(() => dirty.zeroPadding(), { code: "ERR_BYTES_TRAILING" });
  });

  it("throws nothing but KeywardError for any read sequence", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 32 }),
        fc.array(fc.integer({ min: 0, max: 6 })),
        (bytes, ops) => {
          const r = new ByteReader(bytes, "fuzz");
          try {
            for (const op of ops) {
              if (op === 0) r.u8();
              else if (op === 1) r.u16le();
              else if (op === 2) r.u32be();
              else if (op === 3) r.u64le();
              else if (op === 4) r.bytes(r.length(r.u8(), 16, "n"));
              else if (op === 5) r.zeroPadding();
              else r.end();
            }
          } catch (e) {
            if (!(e instanceof KeywardError)) throw e;
          }
        },
      ),
    );
  });
});
