/**
 * The second-factor seam of the release gate. A policy may require a one-time code from a named
 * account before a release or a key operation is allowed (the OTP feature's `otpRequired` grant);
 * the request carries the account and the code (the `keyward-otp: ACCOUNT:CODE` request header,
 * or the `otp` a feature reads from its own message), and the gate verifies them after the grant
 * step and before the act, so a denied request never burns a code. The kernel knows only this
 * interface: the feature that owns the grant field (features/otp) provides the implementation
 * through `FeatureRuntime.secondFactor`, the way `adminStepUp` is provided.
 *
 * The audit entry of a release that needed a code records the account and the accepted time
 * step (`detail.otp = { account, step }`), never the code.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { ServicePolicy } from "./grants.ts";

/** The request header that carries a one-time code: `ACCOUNT:CODE` (the code is digits only). */
export const OTP_HEADER = "keyward-otp";

/** A one-time code as a request presents it. Never logged, audited or echoed. */
export interface PresentedCode {
  readonly account: string;
  readonly code: string;
}

/** What a verified code proves: the account and the time step that was accepted (and is now used). */
export interface AcceptedCode {
  readonly account: string;
  /** The TOTP time step T = floor((unix time − T0) / period) that was accepted (RFC 6238 §4.2). */
  readonly step: number;
}

/** Where a code is checked from (per-address throttling). */
export interface CodeContext {
  /** The action asking (`kms.sign`, `admin.secret.put`, …), for logs and metrics. */
  readonly action: string;
  /** The client's network address, when the listener knows it. */
  readonly clientAddress?: string | undefined;
}

/** A second factor the gate can require (the OTP feature's). */
export interface SecondFactor {
  /**
   * The account whose code `policy` requires before `action` on `names`, or undefined when it
   * requires none.
   */
  required(policy: ServicePolicy, action: string, names: readonly string[]): string | undefined;
  /**
   * Verifies and consumes `presented` (accepted at most once).
   * @throws ERR_OTP_INVALID, ERR_OTP_REPLAYED, ERR_OTP_LOCKED (detail.retryAfter in seconds), ERR_OTP_ACCOUNT_NOT_FOUND, ERR_OTP_ACCOUNT_DISABLED
   */
  verify(presented: PresentedCode, context: CodeContext): Promise<AcceptedCode>;
}

const PRESENTED = /^([A-Za-z0-9][A-Za-z0-9_.@-]{0,63}):([0-9]{6,8})$/;

/**
 * Reads an `ACCOUNT:CODE` value (the `keyward-otp` header, `--otp ACCOUNT:CODE`).
 * @throws ERR_OTP_INVALID when it is not of that form (the value is never echoed)
 */
export function parsePresentedCode(value: string): PresentedCode {
  const m = PRESENTED.exec(value.trim());
  if (m === null)
    throw new KeywardError(
      "ERR_OTP_INVALID",
      "a one-time code is given as ACCOUNT:CODE (account name, then 6 to 8 digits)",
    );
  return { account: m[1] as string, code: m[2] as string };
}

/**
 * The code a request's headers carry, or undefined when none.
 * @throws ERR_OTP_INVALID when the header is present but malformed
 */
export function presentedCodeOf(headers: Headers | undefined): PresentedCode | undefined {
  const value = headers?.get(OTP_HEADER) ?? null;
  return value === null ? undefined : parsePresentedCode(value);
}
