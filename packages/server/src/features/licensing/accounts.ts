/**
 * Users and their sessions: sign-up, login (password, throttling, optional one-time code), refresh
 * token rotation with reuse detection, logout, and authenticating an access token.
 *
 * Refresh tokens (RFC 9700 §4.14): 32 random bytes, base64url; only their SHA-256 is stored. Each
 * use spends the token (one conditional UPDATE: of concurrent uses exactly one wins) and returns a
 * new one of the same family. Presenting a spent token means it was copied: the whole family is
 * revoked, which also ends its access tokens (they name the family) and stops its enclaves.
 *
 * Login failures answer ERR_LICENSING_LOGIN_FAILED whether the user is unknown or the password wrong,
 * after the same argon2id work (passwords.ts) and the same throttling (throttle.ts).
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { AcceptedCode, CodeContext, PresentedCode } from "../../kernel/second-factor.ts";
import { parsePresentedCode } from "../../kernel/second-factor.ts";
import type { Sql } from "../../store/sql.ts";
import type { AccessClaims, AccessTokens } from "./access-tokens.ts";
import { password as checkPassword, opaque, userName } from "./inputs.ts";
import type { PasswordHasher } from "./passwords.ts";
import type { LoginThrottle } from "./throttle.ts";

/** A login's tokens. */
export interface Tokens {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
}

/** What the accounts need. */
export interface AccountsDeps {
  readonly sql: Sql;
  readonly hasher: PasswordHasher;
  readonly throttle: LoginThrottle;
  readonly tokens: AccessTokens;
  readonly verifyCode: (presented: PresentedCode, context: CodeContext) => Promise<AcceptedCode>;
  readonly now: () => Date;
  readonly accessTtl: number;
  readonly refreshTtl: number;
  /** Called after a family is revoked (logout, reuse): stops its enclaves. */
  readonly onFamilyRevoked: (family: string, reason: "logout" | "reuse") => Promise<number>;
  /** Called after a user signed up (a trial licence). */
  readonly onSignUp?: (user: string) => Promise<void>;
}

/** The accounts operations. */
export interface Accounts {
  /** @throws ERR_LICENSING_INPUT_INVALID, ERR_LICENSING_USER_EXISTS */
  signUp(user: string, password: string): Promise<void>;
  /** @throws ERR_LICENSING_INPUT_INVALID, ERR_LICENSING_LOCKED, ERR_LICENSING_LOGIN_FAILED, ERR_LICENSING_OTP_REQUIRED, ERR_OTP_* */
  login(user: string, password: string, otp: string, clientAddress: string | undefined): Promise<Tokens>;
  /** @throws ERR_LICENSING_REFRESH_INVALID (and revokes the family when the token was spent) */
  refresh(refreshToken: string): Promise<Tokens>;
  /** Revokes the token's family and stops its enclaves; returns how many. @throws ERR_LICENSING_REFRESH_INVALID */
  logout(refreshToken: string): Promise<number>;
  /** The caller of an `authorization: Bearer` header. @throws ERR_LICENSING_TOKEN_INVALID */
  authenticate(authorization: string | null): Promise<AccessClaims>;
  /** Makes the user's logins need a code from `account` ('' for none). @throws ERR_LICENSING_INPUT_INVALID */
  setOtp(user: string, account: string): Promise<void>;
}

const hashOf = (token: string) => createHash("sha256").update(token).digest("hex");
const newToken = () => randomBytes(32).toString("base64url");
const newId = () => randomBytes(16).toString("hex");

/** Accounts over the licensing tables. */
export function accounts(d: AccountsDeps): Accounts {
  const { sql } = d;

  const refuse = (why: string) => new KeywardError("ERR_LICENSING_REFRESH_INVALID", `refresh token: ${why}`);

  return {
    async signUp(user, password) {
      userName(user);
      checkPassword(password);
      const phc = await d.hasher.hash(password);
      const inserted = await sql.run(
        "INSERT INTO licensing_users (name, password_hash, otp_account, created_at) VALUES (?, ?, '', ?) ON CONFLICT (name) DO NOTHING",
        [user, phc, d.now().getTime()],
      );
      if (inserted !== 1) throw new KeywardError("ERR_LICENSING_USER_EXISTS", "this user name is taken");
      await d.onSignUp?.(user);
    },

    async login(user, password, otp, clientAddress) {
      userName(user);
      // A password beyond the bounds cannot be a user's: refused before any work, as malformed.
      checkPassword(password);
      const row = await sql.get("SELECT password_hash, otp_account FROM licensing_users WHERE name = ?", [
        user,
      ]);
      const phc = typeof row?.password_hash === "string" ? row.password_hash : undefined;
      // Check, verify and count a failure in one hashing slot (throttle.ts).
      const { failures } = await d.hasher.slot(async () => {
        const seen = await d.throttle.check(user, clientAddress);
        if (!(await d.hasher.verify(phc, password))) {
          await d.throttle.failed(user, clientAddress);
          throw new KeywardError("ERR_LICENSING_LOGIN_FAILED", "wrong user name or password");
        }
        return seen;
      });
      const account = String(row?.otp_account ?? "");
      if (account !== "") {
        if (otp === "")
          throw new KeywardError(
            "ERR_LICENSING_OTP_REQUIRED",
            "this user's logins need a one-time code (ACCOUNT:CODE)",
          );
        const presented = parsePresentedCode(otp);
        if (presented.account !== account)
          throw new KeywardError(
            "ERR_LICENSING_OTP_REQUIRED",
            "the one-time code is not of this user's account",
          );
        await d.verifyCode(presented, { action: "licensing.login", clientAddress });
      }
      const family = newId();
      const refreshToken = newToken();
      const nowMs = d.now().getTime();
      // One commit: the counters cleared (when there were failures), the session and its first token.
      await sql.transaction(async (tx) => {
        if (failures) await d.throttle.clear(tx, user, clientAddress);
        await tx.run(
          "INSERT INTO licensing_families (id, user_name, expires_at, revoked_at, revoke_reason) VALUES (?, ?, ?, 0, '')",
          [family, user, nowMs + d.refreshTtl * 1000],
        );
        await tx.run(
          "INSERT INTO licensing_refresh_tokens (hash, family, spent, created_at) VALUES (?, ?, 0, ?)",
          [hashOf(refreshToken), family, nowMs],
        );
      });
      return {
        accessToken: await d.tokens.issue(user, family, d.accessTtl),
        expiresIn: d.accessTtl,
        refreshToken,
        refreshExpiresIn: d.refreshTtl,
      };
    },

    async refresh(refreshToken) {
      opaque(refreshToken, "refresh_token");
      const hash = hashOf(refreshToken);
      const nowMs = d.now().getTime();
      const outcome = await sql.transaction(async (tx) => {
        const row = await tx.get(
          "SELECT t.family, t.spent, f.user_name, f.expires_at, f.revoked_at FROM licensing_refresh_tokens t " +
            "JOIN licensing_families f ON f.id = t.family WHERE t.hash = ?",
          [hash],
        );
        if (row === undefined) return { kind: "unknown" } as const;
        const family = String(row.family);
        if (Number(row.revoked_at) !== 0) return { kind: "revoked" } as const;
        if (Number(row.expires_at) <= nowMs) return { kind: "expired" } as const;
        if (Number(row.spent) !== 0) {
          await tx.run("UPDATE licensing_families SET revoked_at = ?, revoke_reason = 'reuse' WHERE id = ?", [
            nowMs,
            family,
          ]);
          return { kind: "reused", family } as const;
        }
        const spent = await tx.run(
          "UPDATE licensing_refresh_tokens SET spent = 1 WHERE hash = ? AND spent = 0",
          [hash],
        );
        if (spent !== 1) return { kind: "unknown" } as const;
        const next = newToken();
        await tx.run(
          "INSERT INTO licensing_refresh_tokens (hash, family, spent, created_at) VALUES (?, ?, 0, ?)",
          [hashOf(next), family, nowMs],
        );
        return {
          kind: "rotated",
          family,
          user: String(row.user_name),
          next,
          expiresAt: Number(row.expires_at),
        } as const;
      });
      switch (outcome.kind) {
        case "unknown":
          throw refuse("unknown");
        case "revoked":
          throw refuse("its session was revoked");
        case "expired":
          throw refuse("expired");
        case "reused":
          await d.onFamilyRevoked(outcome.family, "reuse");
          throw new KeywardError(
            "ERR_LICENSING_REFRESH_INVALID",
            "refresh token: already used; its whole session is revoked (RFC 9700 §4.14)",
            { detail: { reuse: true } },
          );
        case "rotated":
          return {
            accessToken: await d.tokens.issue(outcome.user, outcome.family, d.accessTtl),
            expiresIn: d.accessTtl,
            refreshToken: outcome.next,
            refreshExpiresIn: Math.max(0, Math.floor((outcome.expiresAt - nowMs) / 1000)),
          };
      }
    },

    async logout(refreshToken) {
      opaque(refreshToken, "refresh_token");
      const row = await sql.get("SELECT family FROM licensing_refresh_tokens WHERE hash = ?", [
        hashOf(refreshToken),
      ]);
      if (row === undefined) throw refuse("unknown");
      const family = String(row.family);
      await sql.run(
        "UPDATE licensing_families SET revoked_at = ?, revoke_reason = 'logout' WHERE id = ? AND revoked_at = 0",
        [d.now().getTime(), family],
      );
      return d.onFamilyRevoked(family, "logout");
    },

    async authenticate(authorization) {
      const m = authorization === null ? null : /^Bearer ([A-Za-z0-9_.-]{1,2048})$/.exec(authorization);
      if (m === null)
        throw new KeywardError(
          "ERR_LICENSING_TOKEN_INVALID",
          "access token: send `authorization: Bearer TOKEN`",
        );
      const claims = await d.tokens.verify(m[1] as string);
      const family = await sql.get(
        "SELECT revoked_at, expires_at FROM licensing_families WHERE id = ? AND user_name = ?",
        [claims.family, claims.user],
      );
      if (family === undefined || Number(family.revoked_at) !== 0)
        throw new KeywardError("ERR_LICENSING_TOKEN_INVALID", "access token: its session was revoked");
      return claims;
    },

    async setOtp(user, account) {
      userName(user);
      if (account !== "" && !/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(account))
        throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "otp_account: an OTP account name", {
          detail: { field: "otp_account" },
        });
      const changed = await sql.run("UPDATE licensing_users SET otp_account = ? WHERE name = ?", [
        account,
        user,
      ]);
      if (changed !== 1)
        throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "user: no such user", {
          detail: { field: "user" },
        });
    },
  };
}
