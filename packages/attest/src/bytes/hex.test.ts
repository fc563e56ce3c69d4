import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bytesEqual, concatBytes, isAllZero } from "./equal.ts";
import { fromHex, toHex } from "./hex.ts";

describe("hex and byte equality", () => {
  it("round-trips and lowercases", () => {
    assert.equal(toHex(fromHex("00FFa0")), "00ffa0");
    assert.equal(toHex(fromHex("0x0102")), "0102");
  });

  it("rejects odd lengths and non-hex characters instead of truncating", () => {
    assert.throws(() => fromHex("abc"), { code: "ERR_ENCODING_INVALID" });
    assert.throws(() => fromHex("zz00"), { code: "ERR_ENCODING_INVALID" });
    assert.throws(() => fromHex("00zz"), { code: "ERR_ENCODING_INVALID" });
  });

  it("compares at exact length, never padding", () => {
    assert.equal(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
    assert.equal(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0)), false);
    assert.equal(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)), false);
    assert.equal(isAllZero(new Uint8Array(4)), true);
    assert.equal(isAllZero(Uint8Array.of(0, 1)), false);
    assert.deepEqual(concatBytes(Uint8Array.of(1), Uint8Array.of(2, 3)), Uint8Array.of(1, 2, 3));
  });
});
