/**
 * One-time-code step-up: a policy may require a fresh code from a named account before a release
 * or a key operation (`otpRequired`); the code travels in the `keyward-otp: ACCOUNT:CODE` request
 * header, checked once by the service (a replayed code is refused).
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";

/** A one-time code of an account (e.g. from an authenticator app). */
export interface OneTimeCode {
  readonly account: string;
  /** The code as shown: 6 to 8 digits. */
  readonly code: string;
}

/**
 * The call options carrying `otp` (none without one).
 * @throws ERR_USAGE for an account name with a colon or line break, or a code that is not digits
 */
export function headersOf(otp: OneTimeCode | undefined): { headers: Record<string, string> } | undefined {
  if (otp === undefined) return undefined;
  if (!/^[A-Za-z0-9_.@-]{1,128}$/.test(otp.account) || !/^\d{6,8}$/.test(otp.code))
    throw new KeywardError(
      "ERR_USAGE",
      "a one-time code is 6 to 8 digits of an account named [A-Za-z0-9_.@-]",
    );
  return { headers: { "keyward-otp": `${otp.account}:${otp.code}` } };
}
