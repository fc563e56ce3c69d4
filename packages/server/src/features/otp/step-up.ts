/**
 * The OTP feature's second factors for the kernel's two seams:
 *
 * - admin step-up (kernel/step-up.ts): with `--otp-admin-step-up`, every mutating Admin call needs
 *   a fresh code (`keyward-otp: ACCOUNT:CODE`) from an account bound to one of the operator's
 *   roles (`--otp-operator-roles`; an operator not listed holds `admin`). The role is checked
 *   before the code, so a code of the wrong account is never consumed. A refusal happens before
 *   the change touches the store or the audit log; an acceptance is audited (`otp.step-up`, with
 *   the account and time step — never the code).
 * - the gate's second factor (kernel/second-factor.ts): the `otpRequired` grant names the account;
 *   the gate verifies the code the request carries and audits account and step.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { AuditEvent } from "../../audit/chain.ts";
import { presentedCodeOf, type SecondFactor } from "../../kernel/second-factor.ts";
import type { AdminStepUp } from "../../kernel/step-up.ts";
import { requiredAccount } from "./grants.ts";
import type { OtpVerifier } from "./verifier.ts";

/** The roles of operator `subject` (`admin:<CN>:<hash>`): as configured, else `admin`. */
export function operatorRoles(
  subject: string,
  configured: ReadonlyMap<string, readonly string[]>,
): readonly string[] {
  const cn = subject.split(":")[1] ?? "";
  return configured.get(cn) ?? ["admin"];
}

/** The admin step-up; accepts everything when `enabled` is false. */
export function otpAdminStepUp(deps: {
  readonly enabled: boolean;
  readonly operatorRoles: ReadonlyMap<string, readonly string[]>;
  readonly verifier: OtpVerifier;
  readonly audit: (event: AuditEvent) => Promise<unknown>;
}): AdminStepUp {
  return async ({ action, subject, headers, clientAddress }) => {
    if (!deps.enabled) return;
    const roles = operatorRoles(subject, deps.operatorRoles);
    const presented = presentedCodeOf(headers);
    if (presented === undefined)
      throw new KeywardError(
        "ERR_ADMIN_STEP_UP_REQUIRED",
        `${action} needs a one-time code (--otp ACCOUNT:CODE) from an account bound to the role ${roles.join(" or ")}`,
      );
    let accountRoles: readonly string[] | undefined;
    try {
      accountRoles = await deps.verifier.roles(presented.account);
    } catch {
      // An unknown account: let the verifier count it against the client and say so.
      await deps.verifier.verify(presented, { clientAddress });
    }
    if (accountRoles !== undefined && !accountRoles.some((r) => roles.includes(r)))
      throw new KeywardError(
        "ERR_ADMIN_STEP_UP_REQUIRED",
        `OTP account ${presented.account} is not bound to the role ${roles.join(" or ")} of this operator`,
      );
    const accepted = await deps.verifier.verify(presented, { clientAddress });
    await deps.audit({
      action: "otp.step-up",
      outcome: "ok",
      subject,
      detail: { for: action, account: accepted.account, step: accepted.step },
    });
  };
}

/** The gate's second factor: `otpRequired` rules, verified by `verifier`. */
export function otpSecondFactor(verifier: OtpVerifier): SecondFactor {
  return {
    required: requiredAccount,
    verify: (presented, context) => verifier.verify(presented, context),
  };
}
