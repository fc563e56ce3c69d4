/**
 * The OTP operations on a store without a running service (`keyward admin otp …` and
 * `keyward otp verify` without `--admin`): the same account operations and the same verifier as
 * the service's, with the throttling the configuration names. Whoever runs them reads the data
 * directory and the master key — the person who could read every secret anyway — so they are not
 * stepped up (docs/otp.md, "Bootstrap").
 *
 * @module
 */
import { isKeywardError } from "@keyward/attest/errors";
import type { AcceptedCode } from "../../kernel/second-factor.ts";
import type { ServiceConfig } from "../../ops/config.ts";
import type { Store } from "../../store/contract.ts";
import { type NewAccount, type OtpAccount, otpAccounts } from "./accounts.ts";
import { OTP_CLIENT_MAX_FAILURES, OTP_LOCKOUT_SECONDS, OTP_MAX_FAILURES } from "./options.ts";
import { otpVerifier } from "./verifier.ts";

/** The OTP operations an operator runs on a local store. */
export interface LocalOtp {
  /** @throws ERR_OTP_ACCOUNT_INVALID, ERR_OTP_ACCOUNT_EXISTS */
  createAccount(subject: string, account: NewAccount): Promise<OtpAccount>;
  /** Every account, by name; never a secret. */
  listAccounts(): Promise<OtpAccount[]>;
  /** @throws ERR_OTP_ACCOUNT_NOT_FOUND */
  disableAccount(subject: string, name: string): Promise<OtpAccount>;
  /** Enables it again and clears its lockout. @throws ERR_OTP_ACCOUNT_NOT_FOUND */
  enableAccount(subject: string, name: string): Promise<OtpAccount>;
  /** A new secret (the old one stops at once) and a new one-time enrollment. @throws ERR_OTP_ACCOUNT_NOT_FOUND */
  reenrollAccount(subject: string, name: string): Promise<OtpAccount>;
  /**
   * Verifies and consumes a code, audited as `otp.verify` (account and step, or the error code).
   * @throws ERR_OTP_INVALID, ERR_OTP_REPLAYED, ERR_OTP_LOCKED (detail.retryAfter in seconds), ERR_OTP_ACCOUNT_NOT_FOUND, ERR_OTP_ACCOUNT_DISABLED
   */
  verify(subject: string, account: string, code: string): Promise<AcceptedCode>;
}

/** The operations over `store`, sealing and opening secrets with `masterKey()`. */
export function localOtp(
  store: Store,
  masterKey: () => Uint8Array,
  config: Pick<ServiceConfig, "options">,
  now: () => Date = () => new Date(),
): LocalOtp {
  const accounts = otpAccounts(store, masterKey, now);
  const verifier = otpVerifier(store.sql, masterKey, now, {
    maxFailures: config.options.get(OTP_MAX_FAILURES),
    clientMaxFailures: config.options.get(OTP_CLIENT_MAX_FAILURES),
    lockoutSeconds: config.options.get(OTP_LOCKOUT_SECONDS),
  });
  return {
    createAccount: (subject, account) => accounts.create(subject, account),
    listAccounts: () => accounts.list(),
    disableAccount: (subject, name) => accounts.disable(subject, name),
    enableAccount: (subject, name) => accounts.enable(subject, name),
    reenrollAccount: (subject, name) => accounts.reenroll(subject, name),
    async verify(subject, account, code) {
      try {
        const accepted = await verifier.verify({ account, code }, { clientAddress: undefined });
        await store.appendAudit({
          action: "otp.verify",
          outcome: "ok",
          subject,
          detail: { account, step: accepted.step },
        });
        return accepted;
      } catch (e) {
        await store.appendAudit({
          action: "otp.verify",
          outcome: "denied",
          subject,
          detail: { account, code: isKeywardError(e) ? e.code : "ERR_INTERNAL" },
        });
        throw e;
      }
    },
  };
}
