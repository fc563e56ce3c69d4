/**
 * The KBS protocol's three steps (Request–Challenge–Attestation–Response), as guest components
 * drive them:
 *
 * 1. `POST /kbs/v0/auth` → a session in the store, its cookie, and a Challenge (nonce, SHA-384).
 * 2. `POST /kbs/v0/attest` (cookie) → the challenge taken once; the TDX or SGX quote verified by
 *    the service's verifier (the simulated platform only when the service trusts it); its report
 *    data checked against the runtime data (nonce, TEE key) and its configuration ID against
 *    init-data; the caller admitted by a policy (the gate's appraisal, audited when refused); an
 *    attestation token in the body and the session.
 * 3. `GET /kbs/v0/resource/<repository>/<type>/<tag>` (cookie or `Authorization: Bearer`) → the
 *    secret granted under the name `<repository>/<type>/<tag>` released through the gate (re-
 *    appraised now, audited as `secrets.get` via `kbs`), as a JWE encrypted to the TEE key.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { KeywardError } from "@keyward/attest/errors";
import type { FeatureContext } from "../../kernel/feature.ts";
import { encryptJwe, recipientKey } from "../../kernel/jwe.ts";
import { LIMITS } from "../../kernel/limits.ts";
import { type Caller, callerOf } from "../../kernel/subject.ts";
import { checkInitData, checkReportData, expectedReportData, RUNTIME_DATA_HASH } from "./binding.ts";
import { bearerOf, readJson, sendJson, sessionCookie, sessionCookieOf } from "./http.ts";
import { parseKbsAttestation, parseKbsRequest, parseTeePubKey, quoteOfEvidence } from "./protocol.ts";
import type { KbsSessions } from "./sessions.ts";
import { issueToken, tokenKeyOf, verifyToken } from "./token.ts";

/** How long a challenge may wait for its Attestation. */
export const CHALLENGE_TTL_MS = 120_000;

/** What the handlers need. */
export interface KbsServiceOptions {
  readonly sessions: KbsSessions;
  readonly tokenTtlSeconds: number;
  /** TLS: cookies are marked Secure. */
  readonly secure: boolean;
}

/** The protocol handlers, keyed by phase. */
export interface KbsHandlers {
  auth(req: IncomingMessage, res: ServerResponse): Promise<void>;
  attest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  resource(req: IncomingMessage, res: ServerResponse, path: readonly string[]): Promise<void>;
}

const eqText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The KBS handlers over the feature context. */
export function kbsHandlers(ctx: FeatureContext, options: KbsServiceOptions): KbsHandlers {
  const key = tokenKeyOf(ctx.masterKey);
  const now = () => ctx.now().getTime();
  const { sessions } = options;

  return {
    async auth(req, res) {
      const request = parseKbsRequest(await readJson(req, 64 * 1024));
      if (
        request.supportedHashAlgorithms !== undefined &&
        !request.supportedHashAlgorithms.includes(RUNTIME_DATA_HASH)
      )
        throw new KeywardError("ERR_KBS_REQUEST_INVALID", `the client does not support ${RUNTIME_DATA_HASH}`);
      const t = now();
      const session = await sessions.create(request.tee, t, t + CHALLENGE_TTL_MS);
      sendJson(
        res,
        200,
        { nonce: session.nonce, "extra-params": { "selected-hash-algorithm": RUNTIME_DATA_HASH } },
        { "set-cookie": sessionCookie(session.id, session.expiresMs, options.secure) },
      );
    },

    async attest(req, res) {
      const session = await sessions.takeChallenge(sessionCookieOf(req), now());
      try {
        const a = parseKbsAttestation(await readJson(req, 2 * 1024 * 1024));
        if (!eqText(a.nonce, session.nonce))
          throw new KeywardError("ERR_KBS_EVIDENCE_BINDING", "runtime-data.nonce is not the session's nonce");
        recipientKey(a.teePubkey); // a key resources can be encrypted to, before anything is verified
        if (a.additionalEvidence !== "")
          throw new KeywardError(
            "ERR_KBS_REQUEST_INVALID",
            "additional (device) evidence is not verified by this KBS: attest the CPU TEE alone",
          );
        const quote = quoteOfEvidence(a.primaryEvidence, LIMITS.maxQuoteBytes);
        const verified = await ctx.trust.verifyQuote(quote, new Date(now()));
        if (verified.claims.tee !== session.tee)
          throw new KeywardError(
            "ERR_KBS_REQUEST_INVALID",
            `the session is for ${session.tee} but the evidence is a ${verified.claims.tee} quote`,
          );
        checkReportData(verified, expectedReportData(session.nonce, a.teePubkey, a.additionalEvidence));
        if (a.initData !== undefined) checkInitData(verified, a.initData);
        const caller = callerOf(verified, "kbs");
        await ctx.gate.admit("secrets.get", caller);
        const { token, expiresMs } = await issueToken(
          key,
          { subject: caller.subject, tee: session.tee, teePubkey: a.teePubkey, verified },
          now(),
          options.tokenTtlSeconds,
        );
        await sessions.attested(session.id, token, expiresMs);
        sendJson(res, 200, { token }, { "set-cookie": sessionCookie(session.id, expiresMs, options.secure) });
      } catch (e) {
        await sessions.failed(session.id);
        throw e;
      }
    },

    async resource(req, res, path) {
      const token = (await sessions.tokenOf(sessionCookieOf(req), now())) ?? bearerOf(req);
      if (token === undefined)
        throw new KeywardError(
          "ERR_SERVICE_NOT_ATTESTED",
          "no attestation token: attest, then send the cookie or a Bearer token",
        );
      const claims = await verifyToken(key.publicKey, token, now());
      const teePubkey = parseTeePubKey(claims.teePubkey);
      const caller: Caller = { ...callerOf(claims.verified, "kbs"), subject: claims.subject };
      const name = path.join("/");
      const released = await ctx.releaseSecrets({
        caller,
        names: [name],
        origin: { clientAddress: req.socket.remoteAddress },
      });
      const secret = released.result[0];
      if (secret === undefined) throw new KeywardError("ERR_INTERNAL", "the release returned nothing");
      sendJson(res, 200, encryptJwe(teePubkey, secret.value));
    },
  };
}
