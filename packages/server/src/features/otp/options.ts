/**
 * The OTP feature's options (`keyward serve` flags, KEYWARD_* variables): admin step-up, the
 * operators' roles, and throttling.
 *
 * @module
 */
import { defineOption, parsers } from "../../ops/options.ts";

const count = (min: number, max: number) => (text: string) => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new Error(`must be a whole number from ${min} to ${max}`);
  return n;
};

/** Admin changes need a fresh code from an account bound to the operator's role. */
export const OTP_ADMIN_STEP_UP = defineOption({
  key: "otpAdminStepUp",
  flag: "otp-admin-step-up",
  env: "KEYWARD_OTP_ADMIN_STEP_UP",
  kind: "boolean",
  doc: "Admin changes need a one-time code (--otp ACCOUNT:CODE) from an account bound to the operator's role",
  defaultDoc: "off",
  parse: parsers.boolean,
  fallback: () => false,
});

/** Operator (admin certificate CN) → roles. Operators not listed hold the role `admin`. */
export const OTP_OPERATOR_ROLES = defineOption<ReadonlyMap<string, readonly string[]>>({
  key: "otpOperatorRoles",
  flag: "otp-operator-roles",
  env: "KEYWARD_OTP_OPERATOR_ROLES",
  kind: "string",
  doc: "The operators' roles for admin step-up: OPERATOR=ROLE[+ROLE][,OPERATOR=ROLE…] (operator = admin certificate name)",
  defaultDoc: "every operator holds the role admin",
  parse(text) {
    const map = new Map<string, readonly string[]>();
    for (const part of text.split(",")) {
      const m = /^([A-Za-z0-9_.@-]{1,64})=([a-z0-9_.-]{1,64}(?:\+[a-z0-9_.-]{1,64})*)$/.exec(part.trim());
      if (m === null) throw new Error(`must be OPERATOR=ROLE[+ROLE],…, got "${part}"`);
      map.set(m[1] as string, (m[2] as string).split("+"));
    }
    return map;
  },
  fallback: () => new Map(),
});

/** Consecutive failures per account before a temporary lockout. */
export const OTP_MAX_FAILURES = defineOption({
  key: "otpMaxFailures",
  flag: "otp-max-failures",
  env: "KEYWARD_OTP_MAX_FAILURES",
  kind: "string",
  doc: "Consecutive failed codes per account before it is locked out for a while (at 100 it stays locked until re-enabled)",
  defaultDoc: "5",
  parse: count(1, 99),
  fallback: () => 5,
});

/** Consecutive failures per client address before a temporary lockout. */
export const OTP_CLIENT_MAX_FAILURES = defineOption({
  key: "otpClientMaxFailures",
  flag: "otp-client-max-failures",
  env: "KEYWARD_OTP_CLIENT_MAX_FAILURES",
  kind: "string",
  doc: "Consecutive failed codes from one client address (any account) before that address is locked out for a while",
  defaultDoc: "20",
  parse: count(1, 100_000),
  fallback: () => 20,
});

/** The first lockout's length; it doubles with every further failure, up to 15 minutes. */
export const OTP_LOCKOUT_SECONDS = defineOption({
  key: "otpLockoutSeconds",
  flag: "otp-lockout-seconds",
  env: "KEYWARD_OTP_LOCKOUT_SECONDS",
  kind: "string",
  doc: "Length of the first lockout in seconds; it doubles with each further failure, up to 900",
  defaultDoc: "30",
  parse: count(1, 900),
  fallback: () => 30,
});

/** Every option of the OTP feature. */
export const OTP_OPTIONS = [
  OTP_ADMIN_STEP_UP,
  OTP_OPERATOR_ROLES,
  OTP_MAX_FAILURES,
  OTP_CLIENT_MAX_FAILURES,
  OTP_LOCKOUT_SECONDS,
] as const;
