/**
 * What an OTP account's name, issuer and roles may be. Both end up in the key URI's label
 * (`otpauth://totp/ISSUER:NAME?…&issuer=ISSUER`), where a `:` splits wrongly in authenticator
 * apps (Key Uri Format: "neither issuer nor account name may themselves contain a colon"), so it
 * is refused rather than escaped; spaces are allowed in the issuer and escaped as `%20`.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";

/** Account names: a letter or digit, then letters, digits, `_ . @ -`; at most 64. */
export const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const ROLE = /^[a-z0-9_.-]{1,64}$/;
// Printable text without ':' or control characters.
const ISSUER = /^[^:\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,128}$/u;

/** @throws ERR_OTP_ACCOUNT_INVALID */
export function checkAccountName(name: string): string {
  if (!ACCOUNT_NAME.test(name))
    throw new KeywardError(
      "ERR_OTP_ACCOUNT_INVALID",
      "an OTP account name is 1-64 of [A-Za-z0-9_.@-], starting with a letter or digit (no ':')",
    );
  return name;
}

/** @throws ERR_OTP_ACCOUNT_INVALID */
export function checkIssuer(issuer: string): string {
  if (!ISSUER.test(issuer) || issuer.trim() !== issuer)
    throw new KeywardError(
      "ERR_OTP_ACCOUNT_INVALID",
      "an issuer is 1-128 printable characters without ':' and without leading or trailing spaces",
    );
  return issuer;
}

/** @throws ERR_OTP_ACCOUNT_INVALID */
export function checkRoles(roles: readonly string[]): readonly string[] {
  if (roles.length > 16 || roles.some((r) => !ROLE.test(r)))
    throw new KeywardError("ERR_OTP_ACCOUNT_INVALID", "at most 16 roles, each 1-64 of [a-z0-9_.-]");
  return [...new Set(roles)];
}
