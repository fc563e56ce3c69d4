import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { describe, it } from "node:test";
import { p256FromRaw, p256ToRaw, verifyP256 } from "./p256.ts";
import { secretEqual } from "./secret-equal.ts";

describe("P-256 raw keys and signatures", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const message = new TextEncoder().encode("header and body");
  const signature = new Uint8Array(sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" }));

  it("round-trips a raw key and verifies a raw r‖s signature", () => {
    const raw = p256ToRaw(publicKey);
    assert.equal(raw.byteLength, 64);
    assert.equal(verifyP256(p256FromRaw(raw), message, signature), true);
  });

  it("rejects a flipped signature or message byte, and a wrong-size signature", () => {
    const key = p256FromRaw(p256ToRaw(publicKey));
    const bad = signature.slice();
    bad[10] = (bad[10] ?? 0) ^ 1;
    assert.equal(verifyP256(key, message, bad), false);
    const other = message.slice();
    other[0] = (other[0] ?? 0) ^ 1;
    assert.equal(verifyP256(key, other, signature), false);
    assert.equal(verifyP256(key, message, signature.subarray(0, 63)), false);
  });

  it("rejects points not on the curve and wrong sizes with ERR_KEY_INVALID", () => {
    assert.throws(() => p256FromRaw(new Uint8Array(63)), { code: "ERR_KEY_INVALID" });
    const offCurve = p256ToRaw(publicKey);
    offCurve[63] = (offCurve[63] ?? 0) ^ 1;
    assert.throws(() => p256FromRaw(offCurve), { code: "ERR_KEY_INVALID" });
  });

  it("rejects a key of another curve", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey;
    assert.equal(verifyP256(p384, message, signature), false);
  });
});

describe("secretEqual", () => {
  it("compares secrets of any length", () => {
    assert.equal(secretEqual("123456", "123456"), true);
    assert.equal(secretEqual("123456", "123457"), false);
    assert.equal(secretEqual("123456", "1234567"), false);
    assert.equal(secretEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
  });
});
