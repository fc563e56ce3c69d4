import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SignJWT } from "jose";
import { accessTokens, ROTATION_MS } from "./access-tokens.ts";
import { idOf, nonceOf, opaque, password, token, userName } from "./inputs.ts";
import { lockoutMsOf } from "./throttle.ts";

const key = new Uint8Array(randomBytes(32));

describe("access tokens", () => {
  it("verify across one rotation, not two; JWKS carries previous, current and next keys", async () => {
    let now = Date.UTC(2030, 0, 1, 12);
    const tokens = accessTokens(key, () => new Date(now));
    const t = await tokens.issue("alice", "f".repeat(32), 900);
    assert.deepEqual(await tokens.verify(t), { user: "alice", family: "f".repeat(32) });
    const jwks = await tokens.jwks();
    assert.equal(jwks.keys.length, 3);
    assert.ok(jwks.keys.every((k) => k.alg === "EdDSA" && k.kty === "OKP" && typeof k.kid === "string"));
    // Expired: 900 s later plus the 5 s tolerance.
    now += 906_000;
    await assert.rejects(tokens.verify(t), { code: "ERR_LICENSING_TOKEN_INVALID" });
    // A token of the previous epoch still verifies (its key is the previous one); two epochs back does not.
    const longLived = accessTokens(key, () => new Date(now));
    const fresh = await longLived.issue("bob", "e".repeat(32), 900);
    now += ROTATION_MS - 1000;
    // (expired by then anyway: the kid check is what fails first two epochs on)
    now += ROTATION_MS;
    await assert.rejects(longLived.verify(fresh), { code: "ERR_LICENSING_TOKEN_INVALID" });
  });

  it("refuse another service's key, another algorithm, and garbage (property)", async () => {
    const now = () => new Date(Date.UTC(2030, 0, 1));
    const ours = accessTokens(key, now);
    const theirs = accessTokens(new Uint8Array(randomBytes(32)), now);
    await assert.rejects(ours.verify(await theirs.issue("alice", "f".repeat(32), 600)), {
      code: "ERR_LICENSING_TOKEN_INVALID",
    });
    const [kid] = (await ours.jwks()).keys.map((k) => k.kid);
    const hs = await new SignJWT({ sid: "f".repeat(32) })
      .setProtectedHeader({ alg: "HS256", kid: kid ?? "" })
      .setSubject("alice")
      .setIssuer("keyward-licensing")
      .setAudience("keyward-licensing")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(new Uint8Array(32));
    await assert.rejects(ours.verify(hs), { code: "ERR_LICENSING_TOKEN_INVALID" });
    const genuine = await ours.issue("alice", "f".repeat(32), 600);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: genuine.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1 }),
        async (i, c) => {
          const mutated = genuine.slice(0, i) + c + genuine.slice(i + 1);
          if (mutated === genuine) return;
          await assert.rejects(ours.verify(mutated), { code: "ERR_LICENSING_TOKEN_INVALID" });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("licensing inputs", () => {
  it("accept names, ids, nonces and opaque tokens of their shape only (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        for (const check of [
          () => userName(s),
          () => idOf(s, "id"),
          () => token(s, "t"),
          () => opaque(s, "r"),
        ]) {
          try {
            assert.equal(check(), s);
          } catch (e) {
            assert.equal((e as { code?: string }).code, "ERR_LICENSING_INPUT_INVALID");
            assert.ok(!(e as Error).message.includes(s) || s.length < 3, "the value is not echoed");
          }
        }
      }),
    );
    assert.throws(() => password("1234567"), { code: "ERR_LICENSING_INPUT_INVALID" });
    assert.equal(password("12345678"), "12345678");
    assert.throws(() => password("é".repeat(513)), { code: "ERR_LICENSING_INPUT_INVALID" });
    assert.throws(() => nonceOf(new Uint8Array(15)), { code: "ERR_LICENSING_INPUT_INVALID" });
    assert.equal(nonceOf(new Uint8Array(64)).byteLength, 64);
    assert.throws(() => nonceOf(new Uint8Array(65)), { code: "ERR_LICENSING_INPUT_INVALID" });
  });

  it("lock out from the threshold, doubling, at most 15 minutes", () => {
    assert.equal(lockoutMsOf(4, 5), 0);
    assert.equal(lockoutMsOf(5, 5), 60_000);
    assert.equal(lockoutMsOf(6, 5), 120_000);
    assert.equal(lockoutMsOf(50, 5), 900_000);
  });
});
