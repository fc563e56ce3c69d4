/**
 * The OTP feature: TOTP accounts per task or role, each code accepted at most once, throttling
 * shared by the replicas, the one-time enrollment of an account by an attested app (`otpqr`), and
 * the second factors the kernel asks for — admin step-up and the gate's `otpRequired` check.
 * docs/otp.md describes it; docs/architecture.md the seams.
 *
 * @module
 */
import type { Feature } from "../../kernel/feature.ts";
import { otpAccounts } from "./accounts.ts";
import { OTP_ENROLLMENT, OTP_REQUIRED } from "./grants.ts";
import { OTP_MIGRATIONS } from "./migrations.ts";
import {
  OTP_ADMIN_STEP_UP,
  OTP_CLIENT_MAX_FAILURES,
  OTP_LOCKOUT_SECONDS,
  OTP_MAX_FAILURES,
  OTP_OPERATOR_ROLES,
  OTP_OPTIONS,
} from "./options.ts";
import { resealOtpAccounts } from "./sealing.ts";
import { otpServices } from "./service.ts";
import { otpAdminStepUp, otpSecondFactor } from "./step-up.ts";
import { otpVerifier } from "./verifier.ts";

export const otpFeature: Feature = {
  name: "otp",
  migrations: OTP_MIGRATIONS,
  options: OTP_OPTIONS,
  grants: [OTP_ENROLLMENT, OTP_REQUIRED],
  reseal: resealOtpAccounts,
  start(ctx) {
    const o = ctx.config.options;
    const masterKey = () => ctx.masterKey;
    const verifier = otpVerifier(ctx.store.sql, masterKey, ctx.now, {
      maxFailures: o.get(OTP_MAX_FAILURES),
      clientMaxFailures: o.get(OTP_CLIENT_MAX_FAILURES),
      lockoutSeconds: o.get(OTP_LOCKOUT_SECONDS),
    });
    const accounts = otpAccounts(ctx.store, masterKey, ctx.now);
    return {
      services: otpServices(ctx, accounts, verifier),
      adminStepUp: otpAdminStepUp({
        enabled: o.get(OTP_ADMIN_STEP_UP),
        operatorRoles: o.get(OTP_OPERATOR_ROLES),
        verifier,
        audit: ctx.store.appendAudit,
      }),
      secondFactor: otpSecondFactor(verifier),
    };
  },
};
