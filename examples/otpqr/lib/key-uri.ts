/**
 * The Google Authenticator key URI (the "Key Uri Format" of google/google-authenticator's wiki,
 * the de-facto specification):
 *
 *   otpauth://totp/ISSUER:ACCOUNT?issuer=ISSUER&secret=BASE32&algorithm=SHA1&digits=6&period=30
 *
 * - The label and the issuer are percent-encoded (RFC 3986): a space is `%20`, never `+`
 *   (apps show a `+` literally), and `&`, `#`, `?`, `/`, `@` are escaped.
 * - "Neither issuer nor account name may themselves contain a colon": both are refused, not
 *   escaped (the service refuses them at account creation too).
 * - The secret is Base32 (RFC 4648) without `=` padding ("should be omitted"; padding breaks iOS
 *   Google Authenticator); a 20-byte secret is exactly 32 characters.
 * - The issuer is both the label's prefix and the `issuer` parameter, equal, as the wiki asks.
 *
 * Built with `otpauth` (a maintained library whose URI encoding matches these rules), then checked
 * against them, so a change in the library cannot silently produce a URI an app misreads.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { Secret, TOTP } from "otpauth";

/** What the URI is made of: the enrollment the service handed over. */
export interface KeyUriInput {
  readonly issuer: string;
  readonly account: string;
  readonly secret: Uint8Array;
  readonly algorithm: string;
  readonly digits: number;
  readonly period: number;
}

/** True when every authenticator app honours these parameters (SHA1, 6 digits, 30 s). */
export function isUniversal(p: Pick<KeyUriInput, "algorithm" | "digits" | "period">): boolean {
  return p.algorithm === "SHA1" && p.digits === 6 && p.period === 30;
}

/**
 * The `otpauth://totp/…` key URI of an account.
 * @throws ERR_OTP_URI_INVALID when the issuer or account has a colon or a control character, the
 *   secret is empty, or the parameters are not SHA1/SHA256/SHA512, 6/8 digits, 15-120 s
 */
export function keyUri(k: KeyUriInput): string {
  for (const [what, v] of [
    ["issuer", k.issuer],
    ["account", k.account],
  ] as const) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (v === "" || v.includes(":") || /[\u0000-\u001f\u007f]/.test(v))
      throw new KeywardError("ERR_OTP_URI_INVALID", `the ${what} must be non-empty text without ':'`);
  }
  if (!["SHA1", "SHA256", "SHA512"].includes(k.algorithm) || (k.digits !== 6 && k.digits !== 8))
    throw new KeywardError("ERR_OTP_URI_INVALID", "algorithm SHA1/SHA256/SHA512, 6 or 8 digits");
  if (!Number.isInteger(k.period) || k.period < 15 || k.period > 120 || k.secret.byteLength < 16)
    throw new KeywardError("ERR_OTP_URI_INVALID", "a period of 15-120 s and a secret of at least 16 bytes");
  let uri: string;
  try {
    uri = new TOTP({
      issuer: k.issuer,
      label: k.account,
      issuerInLabel: true,
      algorithm: k.algorithm,
      digits: k.digits,
      period: k.period,
      secret: new Secret({ buffer: new Uint8Array(k.secret).buffer }),
    }).toString();
  } catch (cause) {
    // A lone surrogate cannot be percent-encoded (URIError).
    throw new KeywardError("ERR_OTP_URI_INVALID", "the issuer or account cannot be percent-encoded", {
      cause,
    });
  }
  checkKeyUri(uri, k);
  return uri;
}

/**
 * Checks a key URI against the rules above and against what it should say.
 * @throws ERR_OTP_URI_INVALID
 */
export function checkKeyUri(
  uri: string,
  k: Omit<KeyUriInput, "secret"> & { readonly secret?: Uint8Array },
): void {
  const bad = (why: string): never => {
    throw new KeywardError("ERR_OTP_URI_INVALID", `key URI: ${why}`);
  };
  const m = /^otpauth:\/\/totp\/([^?]*)\?(.*)$/.exec(uri);
  if (m === null) bad("not otpauth://totp/LABEL?PARAMETERS");
  const [label = "", query = ""] = [m?.[1], m?.[2]];
  if (uri.includes("+")) bad("a '+' (a space is %20)");
  const enc = encodeURIComponent;
  if (label !== `${enc(k.issuer)}:${enc(k.account)}`) bad("the label is not ISSUER:ACCOUNT percent-encoded");
  const params = new Map<string, string>();
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || params.has(pair.slice(0, eq))) bad("a malformed or repeated parameter");
    params.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  if (params.get("issuer") !== enc(k.issuer)) bad("the issuer parameter differs from the label's");
  const secret = params.get("secret") ?? "";
  if (!/^[A-Z2-7]+$/.test(secret)) bad("the secret is not unpadded Base32");
  if (k.secret !== undefined && secret !== new Secret({ buffer: new Uint8Array(k.secret).buffer }).base32)
    bad("the secret is not the account's");
  if (params.get("algorithm") !== k.algorithm) bad("the algorithm");
  if (params.get("digits") !== String(k.digits)) bad("the digits");
  if (params.get("period") !== String(k.period)) bad("the period");
  if (params.size !== 5) bad("an unexpected parameter");
}
