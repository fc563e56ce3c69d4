/**
 * The KBS attestation token: a JWT (RFC 7519) signed by the service with Ed25519 (`EdDSA`), short-
 * lived, carrying what a resource request needs — the TEE public key the resource is encrypted to,
 * and the verified claims (the claims record the audit log keeps), which the release gate appraises
 * again against the policies in force at that moment.
 *
 * Claims: `iss` ("keyward-kbs"), `iat`, `exp`, `jti`, `jwk` (the token key's public JWK, as the
 * protocol's registered claims ask; never used to verify), `tee-pubkey`, `tee`, `sub` (the
 * caller's subject), `keyward.claims` (claims record).
 *
 * The signing key is derived from the master key (HKDF-SHA-256, info "keyward kbs token key v1"):
 * every replica sharing the master key signs and verifies the same tokens, and rotating the master
 * key invalidates outstanding tokens (they live minutes). A token signed by any other key — another
 * Keyward service, another KBS — fails verification.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject, randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import {
  type ClaimsRecord,
  claimsRecord,
  type VerifiedQuote,
  verifiedFromRecord,
} from "@keyward/attest/evidence";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { KbsTee, TeePubKey } from "./protocol.ts";

/** The issuer every Keyward KBS token names. */
export const TOKEN_ISSUER = "keyward-kbs";

const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

/** The token key pair, derived from the master key. */
export function tokenKeyOf(masterKey: Uint8Array): { privateKey: KeyObject; publicKey: KeyObject } {
  const seed = Buffer.from(hkdfSync("sha256", masterKey, new Uint8Array(0), "keyward kbs token key v1", 32));
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: "der",
    type: "pkcs8",
  });
  seed.fill(0);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** What a verified token says. */
export interface TokenClaims {
  readonly subject: string;
  readonly tee: KbsTee;
  readonly teePubkey: TeePubKey;
  readonly verified: VerifiedQuote;
  readonly expiresMs: number;
}

/** Issues a token for a verified caller. */
export async function issueToken(
  key: { privateKey: KeyObject; publicKey: KeyObject },
  claims: { subject: string; tee: KbsTee; teePubkey: TeePubKey; verified: VerifiedQuote },
  nowMs: number,
  ttlSeconds: number,
): Promise<{ token: string; expiresMs: number }> {
  const iat = Math.floor(nowMs / 1000);
  const token = await new SignJWT({
    jwk: key.publicKey.export({ format: "jwk" }),
    "tee-pubkey": claims.teePubkey,
    tee: claims.tee,
    "keyward.claims": claimsRecord(claims.verified),
  })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setIssuer(TOKEN_ISSUER)
    .setSubject(claims.subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(randomBytes(16).toString("hex"))
    .sign(key.privateKey);
  return { token, expiresMs: (iat + ttlSeconds) * 1000 };
}

/**
 * Verifies a token: EdDSA only, this service's key, issuer, expiry at `nowMs` (no leeway).
 * @throws ERR_KBS_TOKEN_INVALID
 */
export async function verifyToken(publicKey: KeyObject, token: string, nowMs: number): Promise<TokenClaims> {
  if (token.length > 64 * 1024) throw new KeywardError("ERR_KBS_TOKEN_INVALID", "the token is too large");
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, publicKey, {
      algorithms: ["EdDSA"],
      issuer: TOKEN_ISSUER,
      currentDate: new Date(nowMs),
      requiredClaims: ["exp", "iat", "sub"],
    }));
  } catch (cause) {
    const why =
      cause instanceof joseErrors.JWTExpired
        ? "the attestation token has expired: attest again"
        : cause instanceof joseErrors.JWSSignatureVerificationFailed
          ? "the attestation token was not issued by this service"
          : "the attestation token is not valid";
    throw new KeywardError("ERR_KBS_TOKEN_INVALID", why, { cause });
  }
  const tee = payload.tee;
  if (tee !== "tdx" && tee !== "sgx")
    throw new KeywardError("ERR_KBS_TOKEN_INVALID", "the token names no TEE");
  let verified: VerifiedQuote;
  try {
    verified = verifiedFromRecord(payload["keyward.claims"] as ClaimsRecord);
  } catch (cause) {
    throw new KeywardError("ERR_KBS_TOKEN_INVALID", "the token's claims are unreadable", { cause });
  }
  return {
    subject: String(payload.sub),
    tee,
    teePubkey: payload["tee-pubkey"] as TeePubKey,
    verified,
    expiresMs: Number(payload.exp) * 1000,
  };
}
