/**
 * The challenge–response path: Challenge → single-use nonce (short-lived, in the store, so any
 * replica answers any step: challenge-store.ts); Attest(quote, nonce, EPK)
 * with report data[0..32] = SHA-256(nonce ‖ EPK) → single-use token (short-lived) bound to the
 * verified caller and the EPK; GetSecretsWithToken → each secret a JWE to the EPK (ECDH-ES+A256KW,
 * A256GCM: any JOSE library opens it with the ephemeral private key alone). Served on the
 * challenge listener (one-way RA-TLS: the client verifies the service's evidence).
 *
 * Attest authenticates; it refuses a caller no policy accepts through the gate's appraisal step
 * (the same audit entry as a refused GetSecrets). The release itself, at GetSecretsWithToken, goes
 * through the same gate request as GetSecrets over mutual RA-TLS (release.ts), re-appraised
 * against the policies in force then.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import { ChallengeService } from "@keyward/proto/keyward/v1";
import type { FeatureContext } from "../../kernel/feature.ts";
import { compactJwe, encryptJwe, type RecipientJwk, recipientKey } from "../../kernel/jwe.ts";
import { LIMITS } from "../../kernel/limits.ts";
import { type RpcService, rpcService } from "../../kernel/rpc.ts";
import { callerOf } from "../../kernel/subject.ts";
import { ChallengeStore } from "./challenge-store.ts";
import { releaseSecrets } from "./release.ts";

/**
 * A released secret as the challenge path sends it: a compact JWE (RFC 7516 §7.1) to the
 * workload's ephemeral key, `ECDH-ES+A256KW` / `A256GCM` (RFC 7518 §4.6, §5.3), whose protected
 * header (the AAD) names the secret and its version (`keyward_secret`, `keyward_version`).
 * @throws ERR_KEY_INVALID when `epk` is not a usable P-256 JWK
 */
export function sealToEphemeralKey(
  epk: RecipientJwk,
  name: string,
  version: number,
  value: Uint8Array,
): string {
  return compactJwe(encryptJwe(epk, value, { keyward_secret: name, keyward_version: version }));
}

/** SHA-256(nonce ‖ EPK): what the workload puts in the first 32 bytes of its report data. */
export function challengeReportData(nonce: Uint8Array, epk: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(nonce).update(epk).digest());
}

/** Lifetimes of nonces and tokens, and the clock (tests shorten and move them). */
export interface ChallengeOptions {
  readonly nowMs?: () => number;
  readonly nonceTtlMs?: number;
  readonly tokenTtlMs?: number;
}

/**
 * The JWK (RFC 7518 §6.2.1) of an uncompressed P-256 point (0x04 ‖ x ‖ y, 65 bytes), checked to be
 * on the curve so that a bad key is the caller's INVALID_ARGUMENT at Attest, never a failure at
 * release.
 * @throws ERR_KEY_INVALID
 */
export function ephemeralJwk(point: Uint8Array): RecipientJwk {
  if (point.byteLength !== 65 || point[0] !== 4)
    throw new KeywardError("ERR_KEY_INVALID", "the ephemeral public key must be an uncompressed P-256 point");
  const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  const jwk = { kty: "EC", crv: "P-256", x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) };
  recipientKey(jwk);
  return jwk;
}

/** The ChallengeService on the challenge listener. */
export function challengeService(ctx: FeatureContext, options: ChallengeOptions = {}): RpcService {
  const now = options.nowMs ?? (() => ctx.now().getTime());
  const nonceTtl = options.nonceTtlMs ?? 30_000;
  const tokenTtl = options.tokenTtlMs ?? 60_000;
  const store = new ChallengeStore(ctx.store.sql, ctx.masterKey);
  return rpcService("challenge", ChallengeService, {
    async challenge() {
      const nonce = new Uint8Array(randomBytes(32));
      const t = now();
      const expires = t + nonceTtl;
      await store.addNonce(nonce, t, expires);
      return { nonce, expiresAtUnixMs: BigInt(expires) };
    },
    async attest(req) {
      if (
        req.nonce.byteLength !== 32 ||
        req.ephemeralPublicKey.byteLength !== 65 ||
        req.ephemeralPublicKey[0] !== 4 ||
        req.quote.byteLength > LIMITS.maxQuoteBytes
      )
        throw new KeywardError(
          "ERR_SERVICE_REQUEST_INVALID",
          "nonce must be 32 bytes, EPK an uncompressed P-256 point, quote ≤ 64 KiB",
        );
      const epk = ephemeralJwk(req.ephemeralPublicKey);
      await store.takeNonce(req.nonce, now()); // single use, on every replica, whatever happens next
      const verified = await ctx.trust.verifyQuote(req.quote, new Date(now()));
      const expected = challengeReportData(req.nonce, req.ephemeralPublicKey);
      if (!timingSafeEqual(verified.claims.reportData.subarray(0, 32), expected))
        throw new KeywardError(
          "ERR_SERVICE_CHALLENGE_INVALID",
          "report data is not SHA-256(nonce ‖ ephemeral public key)",
        );
      const caller = callerOf(verified, "challenge");
      // Refused here with the entry a refused release gets; allowed callers are audited at release.
      const policy = await ctx.gate.admit("secrets.get", caller);
      const token = new Uint8Array(randomBytes(32));
      const expires = now() + tokenTtl;
      await store.addToken(token, { caller, epk }, expires);
      return { token, expiresAtUnixMs: BigInt(expires), policyId: policy.id };
    },
    async getSecretsWithToken(req, call) {
      if (req.token.byteLength !== 32)
        throw new KeywardError("ERR_SERVICE_CHALLENGE_INVALID", "unknown, used or expired token");
      const t = await store.takeToken(req.token, now()); // single use, on every replica
      const r = await releaseSecrets(ctx, t.caller, req.names, call);
      return {
        policyId: r.policyId,
        secrets: r.result.map((s) => ({
          name: s.name,
          version: s.version,
          jwe: sealToEphemeralKey(t.epk, s.name, s.version, s.value),
        })),
      };
    },
  });
}
