/**
 * The one-time password commands: `keyward admin otp …` (accounts per task or role) and
 * `keyward otp verify` (for scripts). Each acts on a running service's Admin listener
 * (`--admin HOST:PORT`) or, without it, on the service's store directly.
 */
import { ADMIN } from "./common.ts";
import type { CommandSpec } from "./types.ts";

const WHERE =
  "Acts on the Admin listener named by --admin (or $KEYWARD_ADMIN_ADDR) over mutual TLS, or without it on the local store.";

/** `keyward admin otp create-account`. */
export const adminOtpCreateAccount = {
  name: "admin otp create-account",
  summary: "create a TOTP account for a task or role (its secret is handed over once, to otpqr)",
  synopsis:
    "NAME --issuer ISSUER [--role ROLE]... [--algorithm SHA1|SHA256|SHA512] [--digits 6|8] [--period SECONDS] [--admin HOST:PORT] [--json]",
  description: `Prints the account as JSON (never its secret), with or without --json. The secret leaves the service once, through the one-time enrollment of an attested otpqr (docs/otp.md). Defaults are what every authenticator honours: SHA1, 6 digits, 30 s; most apps ignore other algorithms, digits and periods. ${WHERE}`,
  positionals: [{ name: "NAME", help: "the account's name: 1-64 of [A-Za-z0-9_.@-], e.g. release-signer" }],
  options: {
    ...ADMIN,
    issuer: { type: "string", value: "ISSUER", help: "who the authenticator app shows it is for (no ':')" },
    role: {
      type: "string",
      multiple: true,
      value: "ROLE",
      help: "a role whose operators may step up with it",
    },
    algorithm: {
      type: "string",
      value: "ALG",
      choices: ["SHA1", "SHA256", "SHA512"],
      help: "HMAC hash (default SHA1; most authenticator apps ignore the others)",
    },
    digits: { type: "string", value: "6|8", choices: ["6", "8"], help: "code length (default 6)" },
    period: { type: "string", value: "SECONDS", help: "seconds per time step, 15-120 (default 30)" },
  },
  json: true,
  examples: ['release-signer --issuer "ACME Trust" --role release --admin 127.0.0.1:7444'],
} as const satisfies CommandSpec;

/** `keyward admin otp list-accounts`. */
export const adminOtpListAccounts = {
  name: "admin otp list-accounts",
  summary: "list the TOTP accounts (never a secret): enrollment, failures, lockouts",
  synopsis: "[--admin HOST:PORT] [--json]",
  description: `With --json, one JSON object per line. ${WHERE}`,
  options: { ...ADMIN },
  json: true,
  examples: ["", "--json"],
} as const satisfies CommandSpec;

/** `keyward admin otp disable-account`. */
export const adminOtpDisableAccount = {
  name: "admin otp disable-account",
  summary: "disable a TOTP account: its codes and its enrollment are refused from now on",
  synopsis: "NAME [--admin HOST:PORT] [--json]",
  description: `Exit 1 when there is no such account. ${WHERE}`,
  positionals: [{ name: "NAME", help: "the account's name" }],
  options: { ...ADMIN },
  json: true,
  examples: ["release-signer"],
} as const satisfies CommandSpec;

/** `keyward admin otp enable-account`. */
export const adminOtpEnableAccount = {
  name: "admin otp enable-account",
  summary: "enable a TOTP account again and clear its lockout (also one locked after 100 failures)",
  synopsis: "NAME [--admin HOST:PORT] [--json]",
  description: `Exit 1 when there is no such account. ${WHERE}`,
  positionals: [{ name: "NAME", help: "the account's name" }],
  options: { ...ADMIN },
  json: true,
  examples: ["release-signer"],
} as const satisfies CommandSpec;

/** `keyward admin otp reenroll-account`. */
export const adminOtpReenrollAccount = {
  name: "admin otp reenroll-account",
  summary: "give a TOTP account a new secret (the old one stops at once) and a new one-time enrollment",
  synopsis: "NAME [--admin HOST:PORT] [--json]",
  description: `For a lost or exposed authenticator: enroll it again with a fresh otpqr (docs/otp.md). Exit 1 when there is no such account. ${WHERE}`,
  positionals: [{ name: "NAME", help: "the account's name" }],
  options: { ...ADMIN },
  json: true,
  examples: ["release-signer --admin 127.0.0.1:7444 --otp ops:123456"],
} as const satisfies CommandSpec;

/** `keyward otp verify`. */
export const otpVerify = {
  name: "otp verify",
  summary: "verify and consume a one-time code of an account (each code is accepted once)",
  synopsis: "--account NAME --code CODE|- [--admin HOST:PORT] [--json]",
  description: `Exit 0 when accepted; 1 with ERR_OTP_REPLAYED (used already), ERR_OTP_INVALID (wrong) or ERR_OTP_LOCKED (retryAfter in seconds). Both refusals count towards the lockout. --code - reads the code from stdin (keeps it out of the process list). ${WHERE}`,
  options: {
    ...ADMIN,
    account: { type: "string", value: "NAME", help: "the OTP account" },
    code: { type: "string", value: "CODE", help: "the code (6 or 8 digits), or - to read it from stdin" },
  },
  json: true,
  examples: ["--account release-signer --code 123456 --admin 127.0.0.1:7444 --json"],
} as const satisfies CommandSpec;

/** `keyward demo otp`. */
export const demoOtp = {
  name: "demo otp",
  summary: "run the one-time-password flow: an account, its enrollment by otpqr, a code accepted once",
  synopsis: "[--json]",
  description:
    "On a fresh temporary data directory: the service on SQLite in simulation mode, otpqr under the simulated launcher, nothing left behind. Exit 0 only when every step is the expected one.",
  options: {},
  json: true,
  examples: [""],
} as const satisfies CommandSpec;
