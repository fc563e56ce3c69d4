/**
 * Access tokens: short-lived JWTs (RFC 7519) signed with Ed25519 (`EdDSA`, RFC 8037), verified with
 * the algorithm pinned (RFC 8725 §3.1), issuer and audience checked (§3.8–3.9), and `kid` naming
 * the key (its RFC 7638 thumbprint).
 *
 * Rotation without shared state: the signing key of rotation epoch E (E = ⌊unix ms / period⌋) is
 * derived from the master key (HKDF-SHA-256, info "keyward licensing token key v1 E"), so every
 * replica signs with the same key in the same epoch and verifies the previous epoch's tokens too.
 * The JWKS publishes the previous, current and next epoch's public keys (a relying party caching the
 * set is never missing a key), and a token whose `kid` is none of the previous or current epoch's is
 * refused. Rotating the master key ends every outstanding token.
 *
 * Claims: `iss`/`aud` "keyward-licensing", `sub` the user, `sid` the login's refresh-token family
 * (revoking it ends the token before its `exp`), `jti`, `iat`, `exp`.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject, randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, type JWK, jwtVerify, SignJWT } from "jose";

/** Issuer and audience of every licensing access token. */
export const TOKEN_ISSUER = "keyward-licensing";
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
/** One key per day. */
export const ROTATION_MS = 24 * 3600 * 1000;

interface EpochKey {
  readonly epoch: number;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: JWK;
}

/** What a verified access token says. */
export interface AccessClaims {
  readonly user: string;
  readonly family: string;
}

/** Signs and verifies access tokens. */
export interface AccessTokens {
  /** A token for `user` in login `family`, valid `ttlSeconds`. */
  issue(user: string, family: string, ttlSeconds: number): Promise<string>;
  /**
   * Verifies a token: signature with a current or previous key, `alg` EdDSA only, issuer, audience,
   * expiry (no tolerance beyond 5 s of clock skew).
   * @throws ERR_LICENSING_TOKEN_INVALID
   */
  verify(token: string): Promise<AccessClaims>;
  /** The JWK Set (RFC 7517 §5) of the previous, current and next keys. */
  jwks(): Promise<{ keys: JWK[] }>;
}

/** Access tokens signed with keys derived from `masterKey`, at `now()`. */
export function accessTokens(masterKey: Uint8Array, now: () => Date, rotationMs = ROTATION_MS): AccessTokens {
  const cache = new Map<number, Promise<EpochKey>>();
  const keyOf = (epoch: number): Promise<EpochKey> => {
    let k = cache.get(epoch);
    if (k === undefined) {
      k = deriveKey(masterKey, epoch);
      cache.set(epoch, k);
      // Keep the few epochs in use.
      for (const e of cache.keys()) if (e < epoch - 2) cache.delete(e);
    }
    return k;
  };
  const epochNow = () => Math.floor(now().getTime() / rotationMs);
  return {
    async issue(user, family, ttlSeconds) {
      const key = await keyOf(epochNow());
      const iat = Math.floor(now().getTime() / 1000);
      return new SignJWT({ sid: family })
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: key.kid })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_ISSUER)
        .setSubject(user)
        .setJti(randomBytes(16).toString("hex"))
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(key.privateKey);
    },
    async verify(token) {
      const refuse = (why: string, cause?: unknown) =>
        new KeywardError(
          "ERR_LICENSING_TOKEN_INVALID",
          `access token: ${why}`,
          cause === undefined ? {} : { cause },
        );
      if (token.length === 0 || token.length > 2048) throw refuse("missing or oversized");
      // Canonical base64url only: a decoder ignores the unused low bits of a segment's last
      // character, so without this check one token would verify under several spellings.
      const parts = token.split(".");
      if (parts.length !== 3 || parts.some((p) => Buffer.from(p, "base64url").toString("base64url") !== p))
        throw refuse("malformed");
      let kid: unknown;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch (e) {
        throw refuse("malformed", e);
      }
      const epoch = epochNow();
      const candidates = await Promise.all([keyOf(epoch), keyOf(epoch - 1)]);
      const key = candidates.find((k) => k.kid === kid);
      if (key === undefined) throw refuse("signed by an unknown or retired key");
      try {
        const { payload } = await jwtVerify(token, key.publicKey, {
          algorithms: ["EdDSA"],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_ISSUER,
          typ: "at+jwt",
          requiredClaims: ["sub", "exp", "iat", "jti"],
          clockTolerance: 5,
          currentDate: now(),
        });
        if (typeof payload.sub !== "string" || typeof payload.sid !== "string")
          throw refuse("claims missing");
        return { user: payload.sub, family: payload.sid };
      } catch (e) {
        if (e instanceof KeywardError) throw e;
        throw refuse("verification failed", e);
      }
    },
    async jwks() {
      const epoch = epochNow();
      const keys = await Promise.all([keyOf(epoch - 1), keyOf(epoch), keyOf(epoch + 1)]);
      return { keys: keys.map((k) => k.jwk) };
    },
  };
}

async function deriveKey(masterKey: Uint8Array, epoch: number): Promise<EpochKey> {
  const seed = Buffer.from(
    hkdfSync("sha256", masterKey, new Uint8Array(0), `keyward licensing token key v1 ${epoch}`, 32),
  );
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: "der",
    type: "pkcs8",
  });
  seed.fill(0);
  const publicKey = createPublicKey(privateKey);
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported, "sha256");
  return { epoch, kid, privateKey, publicKey, jwk: { ...exported, kid, alg: "EdDSA", use: "sig" } };
}
