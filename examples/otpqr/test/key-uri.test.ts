/**
 * otpqr's key URI against the Google Authenticator "Key Uri Format" rules
 * (../../../docs/otp.md; the wiki example is quoted from google/google-authenticator's wiki):
 * percent-encoding of label and issuer (%20, never '+'), no colon, unpadded Base32, the issuer in
 * the label and the parameter; property-based over issuers and account names, read back with
 * otpauth's own parser.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { Secret, URI } from "otpauth";
import { checkKeyUri, isUniversal, keyUri } from "../lib/key-uri.ts";

// The wiki's example secret HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ as bytes.
const WIKI_SECRET = new Uint8Array(Secret.fromBase32("HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ").buffer);
const base = { algorithm: "SHA1", digits: 6, period: 30 } as const;

describe("otpqr key URI", () => {
  it("matches the wiki's example byte for byte (parameters in otpauth's order)", () => {
    assert.equal(
      keyUri({ ...base, issuer: "ACME Co", account: "john.doe@email.com", secret: WIKI_SECRET }),
      "otpauth://totp/ACME%20Co:john.doe%40email.com?issuer=ACME%20Co&secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&algorithm=SHA1&digits=6&period=30",
    );
  });

  it("escapes &, #, ?, /, spaces and @; never '+'; a 20-byte secret is 32 Base32 characters, no '='", () => {
    const uri = keyUri({
      ...base,
      issuer: "A&B #1? Co/ops",
      account: "bob smith+ops",
      secret: new Uint8Array(20).fill(1),
    });
    assert.match(
      uri,
      /^otpauth:\/\/totp\/A%26B%20%231%3F%20Co%2Fops:bob%20smith%2Bops\?issuer=A%26B%20%231%3F%20Co%2Fops&secret=[A-Z2-7]{32}&/,
    );
    assert.ok(!uri.includes("+") && !uri.includes("=".repeat(2)) && !/secret=[A-Z2-7]*=/.test(uri));
  });

  it("refuses a colon, a control character, an empty name, a short secret or unknown parameters", () => {
    const s = new Uint8Array(20);
    for (const bad of [
      { ...base, issuer: "ACME:Co", account: "a", secret: s },
      { ...base, issuer: "ACME", account: "a:b", secret: s },
      { ...base, issuer: "ACME\n", account: "a", secret: s },
      { ...base, issuer: "", account: "a", secret: s },
      { ...base, issuer: "ACME", account: "a", secret: new Uint8Array(10) },
      { ...base, algorithm: "MD5", issuer: "ACME", account: "a", secret: s },
      { ...base, digits: 7, issuer: "ACME", account: "a", secret: s },
      { ...base, period: 5, issuer: "ACME", account: "a", secret: s },
      { ...base, issuer: "ACME \ud800", account: "a", secret: s },
    ])
      assert.throws(() => keyUri(bad), { code: "ERR_OTP_URI_INVALID" }, JSON.stringify(bad.issuer));
  });

  it("checkKeyUri refuses a '+' for a space, an issuer mismatch, padding and another secret", () => {
    const k = { ...base, issuer: "ACME Co", account: "alice", secret: WIKI_SECRET };
    const good = keyUri(k);
    checkKeyUri(good, k);
    for (const bad of [
      good.replaceAll("%20", "+"),
      good.replace("issuer=ACME%20Co", "issuer=Evil"),
      good.replace("BOZ&", "BOZ====&"),
      good.replace("HXDM", "AAAA"),
      `${good}&image=x`,
      good.replace("totp", "hotp"),
    ])
      assert.throws(() => checkKeyUri(bad, k), { code: "ERR_OTP_URI_INVALID" }, bad);
    assert.ok(isUniversal(base));
    assert.ok(!isUniversal({ ...base, algorithm: "SHA256" }));
  });

  it("property: any issuer and account without ':' or control characters round-trip through otpauth's parser", () => {
    const text = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is left out
      .filter((s) => !s.includes(":") && !/[\u0000-\u001f\u007f]/.test(s));
    fc.assert(
      fc.property(text, text, fc.uint8Array({ minLength: 20, maxLength: 64 }), (issuer, account, secret) => {
        const uri = keyUri({ ...base, issuer, account, secret });
        assert.ok(!uri.includes("+"), "a space is %20 and a plus %2B");
        assert.ok(!uri.includes(" "));
        const parsed = URI.parse(uri);
        assert.equal(parsed.issuer, issuer);
        assert.equal(parsed.label, account);
        assert.deepEqual(new Uint8Array(parsed.secret.buffer), secret);
      }),
      { numRuns: 300 },
    );
  });
});
