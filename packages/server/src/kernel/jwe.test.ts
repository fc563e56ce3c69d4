import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { compactDecrypt, type FlattenedJWE, flattenedDecrypt } from "jose";
import { compactJwe, encryptJwe, type RecipientJwk } from "./jwe.ts";

const pair = (type: "ec" | "rsa", curve?: string) => {
  const { privateKey, publicKey } =
    type === "ec"
      ? generateKeyPairSync("ec", { namedCurve: curve as string })
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, jwk: publicKey.export({ format: "jwk" }) as unknown as RecipientJwk };
};

describe("JWE to a workload's key", () => {
  for (const [label, make] of [
    ["P-256", () => pair("ec", "prime256v1")],
    ["P-384", () => pair("ec", "secp384r1")],
    ["P-521", () => pair("ec", "secp521r1")],
    ["RSA-2048", () => pair("rsa")],
  ] as const) {
    it(`${label}: a standard JOSE library decrypts it (flattened and compact)`, async () => {
      const { privateKey, jwk } = make();
      const jwe = encryptJwe(jwk, new TextEncoder().encode("value ✓"));
      const r = await flattenedDecrypt(jwe as unknown as FlattenedJWE, privateKey);
      assert.equal(new TextDecoder().decode(r.plaintext), "value ✓");
      assert.equal(r.protectedHeader?.enc, "A256GCM");
      const c = await compactDecrypt(compactJwe(jwe), privateKey);
      assert.equal(new TextDecoder().decode(c.plaintext), "value ✓");
    });
  }

  it("writes the protected header in the sorted form kbs-types re-serializes", () => {
    const { jwk } = pair("ec", "prime256v1");
    const header = Buffer.from(encryptJwe(jwk, new Uint8Array([1])).protected, "base64url").toString();
    assert.match(
      header,
      /^\{"alg":"ECDH-ES\+A256KW","enc":"A256GCM","epk":\{"crv":"P-256","kty":"EC","x":"[\w-]{43}","y":"[\w-]{43}"\}\}$/,
    );
  });

  it("puts private header members in key order after alg and enc, authenticated, and refuses reserved ones", async () => {
    const { jwk, privateKey } = pair("ec", "prime256v1");
    const jwe = encryptJwe(jwk, new Uint8Array([7]), {
      zz: "last",
      keyward_secret: 'a"b',
      keyward_version: 3,
    });
    const header = Buffer.from(jwe.protected, "base64url").toString();
    assert.match(
      header,
      /^\{"alg":"ECDH-ES\+A256KW","enc":"A256GCM","epk":\{[^}]+\},"keyward_secret":"a\\"b","keyward_version":3,"zz":"last"\}$/,
    );
    const opened = await compactDecrypt(compactJwe(jwe), privateKey);
    assert.equal(opened.protectedHeader.keyward_secret, 'a"b');
    const edited = {
      ...jwe,
      protected: Buffer.from(header.replace('"zz":"last"', '"zz":"lost"')).toString("base64url"),
    };
    await assert.rejects(flattenedDecrypt(edited as FlattenedJWE, privateKey)); // the header is the AAD
    for (const k of ["alg", "enc", "epk", "crit", "zip"])
      assert.throws(() => encryptJwe(jwk, new Uint8Array(1), { [k]: "x" }), { code: "ERR_INTERNAL" }, k);
  });

  it("refuses keys it cannot use, with ERR_KEY_INVALID", () => {
    const ec = pair("ec", "prime256v1").jwk;
    const bad: RecipientJwk[] = [
      { kty: "oct" },
      { ...ec, crv: "secp256k1" },
      { ...ec, alg: "RSA1_5" },
      { ...ec, x: "AAAA" },
      { ...ec, y: ec.x as string }, // not on the curve
      { kty: "RSA", n: "AQAB", e: "AQAB" },
      { ...pair("rsa").jwk, alg: "RSA1_5" },
    ];
    for (const k of bad)
      assert.throws(() => encryptJwe(k, new Uint8Array(1)), { code: "ERR_KEY_INVALID" }, JSON.stringify(k));
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "jwk" });
    assert.throws(() => encryptJwe(small as unknown as RecipientJwk, new Uint8Array(1)), {
      code: "ERR_KEY_INVALID",
    });
  });

  it("never throws anything but ERR_KEY_INVALID for arbitrary JWK-shaped input (property)", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            kty: fc.constantFrom("EC", "RSA", "OKP", ""),
            crv: fc.constantFrom("P-256", "P-384", "P-521", "X25519"),
            x: fc.base64String().map((s) => s.replace(/=/g, "").replace(/\+/g, "-").replace(/\//g, "_")),
            y: fc.string(),
            n: fc.string(),
            e: fc.string(),
            alg: fc.string(),
          },
          { requiredKeys: ["kty"] },
        ),
        (jwk) => {
          try {
            encryptJwe(jwk as RecipientJwk, new Uint8Array(4));
          } catch (e) {
            assert.equal((e as { code?: string }).code, "ERR_KEY_INVALID");
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
