/**
 * The challenge–response path: Challenge → single-use nonce (short-lived); Attest(quote, nonce, EPK)
 * with report data[0..32] = SHA-256(nonce ‖ EPK) → single-use token (short-lived) bound to the
 * accepting policy and the EPK; GetSecretsWithToken → secrets encrypted to the EPK (ECDH-ES P-256,
 * AES-256-GCM). Served on a one-way RA-TLS listener (the client verifies the service's evidence).
 *
 * @module
 */
import { createECDH, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Http2SecureServer } from "node:http2";
import { appraiseAgainstSet, type Policy } from "@keyward/attest/appraisal";
import { KeywardError } from "@keyward/attest/errors";
import type { VerifiedQuote } from "@keyward/attest/evidence";
import { claimsRecord } from "@keyward/attest/evidence";
import { createRaTlsGrpcServer } from "@keyward/channels/grpc";
import type { TlsCredential } from "@keyward/channels/tls";
import { ChallengeService } from "@keyward/proto/keyward/v1";
import { gcmOpen, gcmSeal, secretAad } from "./envelope.ts";
import { toConnectError } from "./errors.ts";
import { listenOn } from "./listening.ts";
import { resolveGrant } from "./service.ts";
import type { Store } from "./store.ts";

const INFO = new TextEncoder().encode("keyward-ecdh-es-v1");

function ecdhKey(z: Uint8Array, serverEpk: Uint8Array, clientEpk: Uint8Array): Buffer {
  return createHash("sha256").update(INFO).update(z).update(serverEpk).update(clientEpk).digest();
}

/** Encrypts `value` to `clientEpk` (uncompressed P-256) with a one-time service key. */
export function ecdhEsSeal(clientEpk: Uint8Array, value: Uint8Array, aad: Uint8Array) {
  const e = createECDH("prime256v1");
  const serverEpk = new Uint8Array(e.generateKeys());
  const key = ecdhKey(e.computeSecret(clientEpk), serverEpk, clientEpk);
  return { ephemeralPublicKey: serverEpk, ciphertext: gcmSeal(key, value, aad) };
}

/** The workload's side: decrypts an EncryptedSecret with its ephemeral private key. */
export function ecdhEsOpen(
  clientPrivateKey: Uint8Array,
  secret: { name: string; version: number; ephemeralPublicKey: Uint8Array; ciphertext: Uint8Array },
): Uint8Array {
  const e = createECDH("prime256v1");
  e.setPrivateKey(clientPrivateKey);
  const clientEpk = new Uint8Array(e.getPublicKey());
  const key = ecdhKey(e.computeSecret(secret.ephemeralPublicKey), secret.ephemeralPublicKey, clientEpk);
  return gcmOpen(key, secret.ciphertext, secretAad(secret.name, secret.version));
}

/** SHA-256(nonce ‖ EPK): what the workload puts in the first 32 bytes of its report data. */
export function challengeReportData(nonce: Uint8Array, epk: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(nonce).update(epk).digest());
}

export interface ChallengeServiceOptions {
  readonly store: Store;
  readonly masterKey: Uint8Array;
  readonly policies: () => readonly Policy[];
  readonly verifyQuote: (quote: Uint8Array, at: Date) => VerifiedQuote | Promise<VerifiedQuote>;
  readonly credential: TlsCredential;
  readonly now?: () => number;
  readonly nonceTtlMs?: number;
  readonly tokenTtlMs?: number;
  /** Vault's address for `vault:` grants (read with the policy's app_token). */
  readonly vaultAddr?: string;
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

export async function startChallengeService(
  options: ChallengeServiceOptions,
  listen: { host: string; port: number },
): Promise<{ server: Http2SecureServer; port: number; close(): Promise<void> }> {
  const now = options.now ?? Date.now;
  const nonceTtl = options.nonceTtlMs ?? 30_000;
  const tokenTtl = options.tokenTtlMs ?? 60_000;
  const nonces = new Map<string, number>();
  const tokens = new Map<string, { expires: number; policy: Policy; epk: Uint8Array; subject: string }>();
  const sweep = () => {
    const t = now();
    for (const [k, exp] of nonces) if (exp <= t) nonces.delete(k);
    for (const [k, v] of tokens) if (v.expires <= t) tokens.delete(k);
  };
  const { store, masterKey } = options;

  const handlers = {
    challenge() {
      sweep();
      if (nonces.size > 100_000)
        throw toConnectError(
          new KeywardError("ERR_SERVICE_REQUEST_INVALID", "too many outstanding challenges"),
        );
      const nonce = new Uint8Array(randomBytes(32));
      const expires = now() + nonceTtl;
      nonces.set(hexOf(nonce), expires);
      return { nonce, expiresAtUnixMs: BigInt(expires) };
    },
    async attest(req: { nonce: Uint8Array; quote: Uint8Array; ephemeralPublicKey: Uint8Array }) {
      try {
        if (
          req.nonce.byteLength !== 32 ||
          req.ephemeralPublicKey.byteLength !== 65 ||
          req.ephemeralPublicKey[0] !== 4 ||
          req.quote.byteLength > 64 * 1024
        )
          throw new KeywardError(
            "ERR_SERVICE_REQUEST_INVALID",
            "nonce must be 32 bytes, EPK an uncompressed P-256 point, quote ≤ 64 KiB",
          );
        const key = hexOf(req.nonce);
        const exp = nonces.get(key);
        nonces.delete(key); // single use, whatever happens next
        if (exp === undefined || exp <= now())
          throw new KeywardError("ERR_SERVICE_CHALLENGE_INVALID", "unknown, used or expired nonce");
        const verified = await options.verifyQuote(req.quote, new Date(now()));
        const expected = challengeReportData(req.nonce, req.ephemeralPublicKey);
        if (!timingSafeEqual(verified.claims.reportData.subarray(0, 32), expected))
          throw new KeywardError(
            "ERR_SERVICE_CHALLENGE_INVALID",
            "report data is not SHA-256(nonce ‖ ephemeral public key)",
          );
        const c = verified.claims;
        const subject = c.tee === "sgx" ? `sgx:${hexOf(c.mrEnclave)}` : `tdx:${hexOf(c.mrTd)}`;
        const { accepted } = appraiseAgainstSet(verified, options.policies());
        if (accepted === undefined) {
          await store.appendAudit({
            action: "challenge.attest",
            outcome: "denied",
            subject,
            detail: { code: "ERR_SERVICE_DENIED", claims: claimsRecord(verified) },
          });
          throw new KeywardError("ERR_SERVICE_DENIED", "no policy accepts the evidence");
        }
        const token = new Uint8Array(randomBytes(32));
        const expires = now() + tokenTtl;
        tokens.set(hexOf(token), { expires, policy: accepted, epk: req.ephemeralPublicKey, subject });
        await store.appendAudit({
          action: "challenge.attest",
          outcome: "allowed",
          subject,
          policyId: accepted.id,
          detail: { claims: claimsRecord(verified) },
        });
        return { token, expiresAtUnixMs: BigInt(expires), policyId: accepted.id };
      } catch (e) {
        throw toConnectError(e);
      }
    },
    async getSecretsWithToken(req: { token: Uint8Array; names: string[] }) {
      try {
        const key = hexOf(req.token);
        const t = tokens.get(key);
        tokens.delete(key); // single use
        if (t === undefined || t.expires <= now())
          throw new KeywardError("ERR_SERVICE_CHALLENGE_INVALID", "unknown, used or expired token");
        const names = req.names.length === 0 ? Object.keys(t.policy.secrets).sort() : [...req.names];
        if (names.length > 256 || names.some((n) => !Object.hasOwn(t.policy.secrets, n))) {
          await store.appendAudit({
            action: "secrets.get",
            outcome: "denied",
            subject: t.subject,
            policyId: t.policy.id,
            detail: { code: "ERR_SERVICE_DENIED" },
          });
          throw new KeywardError("ERR_SERVICE_DENIED", `policy ${t.policy.id} grants no such secret`);
        }
        const secrets = [];
        for (const name of names) {
          const { value, version } = await resolveGrant(store, masterKey, t.policy.secrets[name] as string, {
            ...(options.vaultAddr === undefined ? {} : { addr: options.vaultAddr }),
            ...(t.policy.appToken === undefined ? {} : { token: t.policy.appToken }),
          });
          secrets.push({ name, version, ...ecdhEsSeal(t.epk, value, secretAad(name, version)) });
        }
        await store.appendAudit({
          action: "secrets.get",
          outcome: "allowed",
          subject: t.subject,
          policyId: t.policy.id,
          detail: { names, path: "challenge" },
        });
        return { policyId: t.policy.id, secrets };
      } catch (e) {
        throw toConnectError(e);
      }
    },
  };
  const server = createRaTlsGrpcServer({ credential: options.credential }, (router) => {
    router.service(ChallengeService, handlers);
  });
  return listenOn(server, listen);
}
