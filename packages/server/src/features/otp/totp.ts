/**
 * HOTP (RFC 4226) and TOTP (RFC 6238) through `otpauth` (a maintained library: RFC vectors pass,
 * tokens compared with `crypto.timingSafeEqual`). This module only adapts it: the time step of a
 * timestamp, and which step within ±1 a code matches.
 *
 * @module
 */
import { HOTP, Secret, TOTP } from "otpauth";

/** The HMAC algorithms an account may use (SHA1 is what every authenticator app honours). */
export const OTP_ALGORITHMS = ["SHA1", "SHA256", "SHA512"] as const;
/** One of {@link OTP_ALGORITHMS}. */
export type OtpAlgorithm = (typeof OTP_ALGORITHMS)[number];

/** An account's TOTP parameters. */
export interface TotpParameters {
  readonly algorithm: OtpAlgorithm;
  /** 6 or 8. */
  readonly digits: number;
  /** The time step X in seconds (RFC 6238 §4.1), 30 by default. */
  readonly period: number;
}

/** The defaults every authenticator app accepts: SHA1, 6 digits, 30 s (Key Uri Format). */
export const DEFAULT_TOTP: TotpParameters = { algorithm: "SHA1", digits: 6, period: 30 };

/** T = floor((unix time − T0) / X), T0 = 0 (RFC 6238 §4.2); `atMs` in milliseconds. */
export function timeStepOf(atMs: number, period: number): number {
  return Math.floor(atMs / 1000 / period);
}

// Only the parameters: callers may pass a wider object (e.g. one that also holds the secret).
const params = (p: TotpParameters) => ({ algorithm: p.algorithm, digits: p.digits, period: p.period });

const secretOf = (secret: Uint8Array) =>
  new Secret({ buffer: secret.buffer.slice(secret.byteOffset, secret.byteOffset + secret.byteLength) });

/** The TOTP code of `secret` at `atMs` (RFC 6238 §4). */
export function totpCode(secret: Uint8Array, p: TotpParameters, atMs: number): string {
  return TOTP.generate({ ...params(p), secret: secretOf(secret), timestamp: atMs });
}

/** The HOTP code of `secret` at `counter` (RFC 4226 §5.3). */
export function hotpCode(
  secret: Uint8Array,
  algorithm: OtpAlgorithm,
  digits: number,
  counter: number,
): string {
  return HOTP.generate({ secret: secretOf(secret), algorithm, digits, counter });
}

/**
 * The time step within ±1 of `atMs` whose code is `code`, or undefined (RFC 6238 §5.2: at most
 * one step of delay either way). Tokens are compared in constant time (by otpauth).
 */
export function matchingStep(
  secret: Uint8Array,
  p: TotpParameters,
  code: string,
  atMs: number,
): number | undefined {
  if (code.length !== p.digits || !/^[0-9]+$/.test(code)) return undefined;
  const delta = TOTP.validate({
    ...params(p),
    token: code,
    secret: secretOf(secret),
    timestamp: atMs,
    window: 1,
  });
  return delta === null ? undefined : timeStepOf(atMs, p.period) + delta;
}
