/**
 * The OTP feature's gRPC services:
 *
 * - `OtpAdminService` on the admin listener (the operator is the verified admin client
 *   certificate): accounts and verification. Changes pass the admin step-up first.
 * - `OtpEnrollmentService` on the service listener (mutual RA-TLS): the one-time enrollment, a
 *   release through the gate (action `otp.enroll`, the account as the one name, the
 *   `otpEnrollment` grant), so it is appraised, granted and audited like any release.
 *
 * @module
 */
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { OtpAdminService, OtpEnrollmentService } from "@keyward/proto/keyward/v1";
import type { FeatureContext } from "../../kernel/feature.ts";
import { type Call, type RpcService, rpcService } from "../../kernel/rpc.ts";
import { callerOf } from "../../kernel/subject.ts";
import type { OtpAccount, OtpAccounts } from "./accounts.ts";
import { grantEnrollment } from "./grants.ts";
import type { OtpVerifier } from "./verifier.ts";

/** An account as the wire carries it. */
export function accountMessage(a: OtpAccount) {
  return {
    name: a.name,
    issuer: a.issuer,
    roles: [...a.roles],
    algorithm: a.algorithm,
    digits: a.digits,
    period: a.period,
    disabled: a.disabled,
    enrollment: a.enrollment,
    enrolledAt: a.enrolledAt ?? "",
    enrolledBy: a.enrolledBy ?? "",
    failures: a.failures,
    lockedUntil: a.lockedUntil ?? "",
    createdAt: a.createdAt,
    createdBy: a.createdBy,
  };
}

/** Verifies a code and audits the outcome (`otp.verify`: account, time step or error code — never the code). */
export async function verifyAudited(
  ctx: Pick<FeatureContext, "store" | "metrics" | "logger">,
  verifier: OtpVerifier,
  subject: string,
  account: string,
  code: string,
  clientAddress: string | undefined,
) {
  try {
    const accepted = await verifier.verify({ account, code }, { clientAddress });
    ctx.metrics.inc(
      "keyward_otp_verifications_total",
      { outcome: "accepted" },
      "OTP verifications by outcome.",
    );
    await ctx.store.appendAudit({
      action: "otp.verify",
      outcome: "ok",
      subject,
      detail: { account, step: accepted.step },
    });
    return accepted;
  } catch (e) {
    const code = isKeywardError(e) ? e.code : "ERR_INTERNAL";
    ctx.metrics.inc("keyward_otp_verifications_total", { outcome: code }, "OTP verifications by outcome.");
    ctx.logger.warn({ event: "otp.refused", account, code }, "one-time code refused");
    await ctx.store.appendAudit({
      action: "otp.verify",
      outcome: "denied",
      subject,
      detail: { account, code },
    });
    throw e;
  }
}

/** Both services. */
export function otpServices(ctx: FeatureContext, accounts: OtpAccounts, verifier: OtpVerifier): RpcService[] {
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
  const admin = rpcService("admin", OtpAdminService, {
    createAccount: async (r, call) => {
      const subject = await change("otp.account.create", call);
      return accountMessage(
        await accounts.create(subject, {
          name: r.name,
          issuer: r.issuer,
          roles: r.roles,
          ...(r.algorithm === "" ? {} : { algorithm: r.algorithm }),
          ...(r.digits === 0 ? {} : { digits: r.digits }),
          ...(r.period === 0 ? {} : { period: r.period }),
        }),
      );
    },
    listAccounts: async (_r, call) => {
      operator(call);
      return { accounts: (await accounts.list()).map(accountMessage) };
    },
    disableAccount: async (r, call) =>
      accountMessage(await accounts.disable(await change("otp.account.disable", call), r.name)),
    enableAccount: async (r, call) =>
      accountMessage(await accounts.enable(await change("otp.account.enable", call), r.name)),
    reenrollAccount: async (r, call) =>
      accountMessage(await accounts.reenroll(await change("otp.account.reenroll", call), r.name)),
    verify: async (r, call) => {
      const accepted = await verifyAudited(
        ctx,
        verifier,
        operator(call),
        r.account,
        r.code,
        call.clientAddress,
      );
      return { accepted: true, account: accepted.account, timeStep: BigInt(accepted.step) };
    },
  });
  const enrollment = rpcService("service", OtpEnrollmentService, {
    enroll: async (r, call) => {
      const caller = call.peer === undefined ? undefined : callerOf(call.peer.verified, "ra-tls");
      const { result } = await ctx.gate.release({
        action: "otp.enroll",
        caller,
        names: [r.account],
        grant: grantEnrollment,
        act: () => accounts.consumeEnrollment(r.account, caller?.subject ?? "anonymous"),
        origin: call,
      });
      ctx.logger.info({ event: "otp.enrolled", account: r.account }, "OTP account enrolled");
      return {
        account: result.name,
        issuer: result.issuer,
        secret: result.secret,
        algorithm: result.algorithm,
        digits: result.digits,
        period: result.period,
      };
    },
  });
  return [admin, enrollment];
}
