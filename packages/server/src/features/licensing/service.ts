/**
 * The licensing gRPC services: `Licensing` on the licensing listener (users and enclaves) and
 * `LicensingAdmin` on the Admin listener (licences, OTP requirement). Every user method but SignUp,
 * Login, Refresh, Logout, GetJwks and RegisterEnclave needs `authorization: Bearer ACCESS_TOKEN`.
 * Admin changes pass the admin step-up and are audited; so are launches, registrations and stops.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { Licensing, LicensingAdmin } from "@keyward/proto/keyward/v1";
import type { FeatureContext } from "../../kernel/feature.ts";
import { type Call, type RpcService, rpcService } from "../../kernel/rpc.ts";
import type { AccessTokens } from "./access-tokens.ts";
import type { Accounts } from "./accounts.ts";
import { certificateSha256, type EnclaveRecord, type Enclaves } from "./enclaves.ts";
import { nonceOf } from "./inputs.ts";
import { issueLicence, type LicenceRecord, licencesOf, revokeLicence, statusOf } from "./licences.ts";
import type { TpmBinder } from "./tpm-binding.ts";

/** What the services use. */
export interface LicensingParts {
  readonly accounts: Accounts;
  readonly tokens: AccessTokens;
  readonly enclaves: Enclaves;
  /** Undefined when no TPM is configured. */
  readonly binder: TpmBinder | undefined;
}

const iso = (ms: number) => (ms === 0 ? "" : new Date(ms).toISOString());

function licenceMessage(l: LicenceRecord, nowMs: number) {
  return {
    id: l.id,
    user: l.user,
    product: l.product,
    entitlements: [...l.entitlements],
    expiresAt: iso(l.expiresAt),
    maxEnclaves: l.maxEnclaves,
    status: statusOf(l, nowMs),
    createdAt: iso(l.createdAt),
    revokedAt: iso(l.revokedAt),
  };
}

function enclaveMessage(e: EnclaveRecord) {
  return {
    id: e.id,
    licenceId: e.licenceId,
    state: e.state,
    host: e.host,
    port: e.port,
    certificateSha256: e.certificate === undefined ? "" : certificateSha256(e.certificate),
    startedAt: iso(e.createdAt),
  };
}

/** The licensing services over `parts`. */
export function licensingServices(
  ctx: FeatureContext,
  parts: LicensingParts,
): { user: RpcService; admin: RpcService } {
  const { accounts, enclaves } = parts;
  const nowMs = () => ctx.now().getTime();
  const caller = (call: Call) => accounts.authenticate(call.headers.get("authorization"));
  const audit = (action: string, subject: string, outcome: "ok" | "denied", detail: Record<string, string>) =>
    ctx.store.appendAudit({ action, outcome, subject, detail });
  const binder = (): TpmBinder => {
    if (parts.binder === undefined)
      throw new KeywardError(
        "ERR_LICENSING_NOT_CONFIGURED",
        "this licensing server has no TPM (--licensing-tpm)",
      );
    return parts.binder;
  };

  const user = rpcService("service", Licensing, {
    signUp: async (r) => {
      await accounts.signUp(r.user, r.password);
      await audit("licensing.signup", `user:${r.user}`, "ok", {});
      return { user: r.user };
    },
    login: async (r, call) => ({
      ...(await accounts.login(r.user, r.password, r.otp, call.clientAddress)),
      tokenType: "Bearer",
    }),
    refresh: async (r) => ({ ...(await accounts.refresh(r.refreshToken)), tokenType: "Bearer" }),
    logout: async (r) => ({ enclavesStopped: await accounts.logout(r.refreshToken) }),
    listLicences: async (_r, call) => {
      const who = await caller(call);
      const now = nowMs();
      return { licences: (await licencesOf(ctx.store.sql, who.user)).map((l) => licenceMessage(l, now)) };
    },
    launchEnclave: async (r, call) => {
      const who = await caller(call);
      try {
        const e = await enclaves.launch(who.user, who.family, r.licenceId);
        await audit("licensing.launch", `user:${who.user}`, "ok", { licence: r.licenceId, enclave: e.id });
        return enclaveMessage(e);
      } catch (e) {
        const code = e instanceof KeywardError ? e.code : "ERR_INTERNAL";
        await audit("licensing.launch", `user:${who.user}`, "denied", {
          licence: r.licenceId.slice(0, 64),
          code,
        });
        throw e;
      }
    },
    stopEnclave: async (r, call) => {
      const who = await caller(call);
      return enclaveMessage(await enclaves.stop(who.user, r.enclaveId));
    },
    getEnclaveBinding: async (r, call) => {
      const who = await caller(call);
      const nonce = nonceOf(r.nonce);
      const e = await enclaves.ready(who.user, r.enclaveId);
      const b = await binder().bind(e.certificate, nonce);
      return {
        quote: b.quote,
        signature: b.signature,
        pcrValues: b.pcrValues,
        pcrSelection: b.pcrSelection,
        akPublic: b.akPublic,
        ekCertificates: [...b.ekCertificates],
        certificate: e.certificate,
        enclave: enclaveMessage(e),
      };
    },
    activateAk: async (r, call) => {
      await caller(call);
      return { secret: await binder().activate(r.credentialBlob, r.encryptedSecret) };
    },
    getJwks: async () => ({ json: JSON.stringify(await parts.tokens.jwks()) }),
    registerEnclave: async (r, call) => {
      await enclaves.register(call.peer, r.launchId, r.certificate, r.port, r.host);
      await audit("licensing.register", "enclave", "ok", { certificate: certificateSha256(r.certificate) });
      return {};
    },
  });

  const operator = (call: Call): string => {
    if (call.operator === undefined)
      throw new KeywardError("ERR_ADMIN_UNAUTHENTICATED", "no verified admin client certificate");
    return call.operator;
  };
  const change = async (action: string, call: Call) => {
    const subject = operator(call);
    await ctx.stepUp({ action, subject, headers: call.headers, clientAddress: call.clientAddress });
    return subject;
  };
  const admin = rpcService("admin", LicensingAdmin, {
    issueLicence: async (r, call) => {
      const subject = await change("licensing.licence.issue", call);
      const l = await issueLicence(
        ctx.store.sql,
        r.user,
        {
          product: r.product,
          entitlements: r.entitlements,
          validSeconds: Number(r.validSeconds),
          maxEnclaves: r.maxEnclaves,
        },
        nowMs(),
      );
      await audit("licensing.licence.issue", subject, "ok", {
        licence: l.id,
        user: l.user,
        product: l.product,
      });
      return licenceMessage(l, nowMs());
    },
    revokeLicence: async (r, call) => {
      const subject = await change("licensing.licence.revoke", call);
      const l = await revokeLicence(ctx.store.sql, r.licenceId, nowMs());
      await audit("licensing.licence.revoke", subject, "ok", { licence: l.id });
      await enclaves.sweep();
      return licenceMessage(l, nowMs());
    },
    listUserLicences: async (r, call) => {
      operator(call);
      const now = nowMs();
      return { licences: (await licencesOf(ctx.store.sql, r.user)).map((l) => licenceMessage(l, now)) };
    },
    setUserOtp: async (r, call) => {
      const subject = await change("licensing.user.otp", call);
      await accounts.setOtp(r.user, r.otpAccount);
      await audit("licensing.user.otp", subject, "ok", { user: r.user, account: r.otpAccount });
      return {};
    },
  });
  return { user, admin };
}
