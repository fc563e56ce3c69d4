/**
 * Login throttling (OWASP Authentication Cheat Sheet; NIST SP 800-63B §5.2.2), per user name and per
 * client address, shared by every replica through the database.
 *
 * An attempt is counted as a failure *before* the password is checked, in one serialized
 * transaction that first refuses a locked subject: concurrent guesses cannot outrun the counter,
 * and while locked the password is not even hashed (a right one is refused too). A successful login
 * resets both counters. After `maxFailures` consecutive failures the subject is locked for 60 s,
 * doubling with each further failure up to 15 minutes. Unknown user names are throttled exactly like
 * known ones, so lockouts do not reveal which names exist.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { Sql } from "../../store/sql.ts";

/** The first lockout, and the longest. */
export const LOCKOUT_BASE_SECONDS = 60;
export const LOCKOUT_MAX_SECONDS = 900;

/** Lockout length in ms after `failures` consecutive failures with threshold `max` (0: none). */
export function lockoutMsOf(failures: number, max: number): number {
  if (failures < max) return 0;
  return Math.min(LOCKOUT_BASE_SECONDS * 2 ** Math.min(failures - max, 20), LOCKOUT_MAX_SECONDS) * 1000;
}

/** Throttling of one login's subjects. */
export interface LoginThrottle {
  /**
   * Counts an attempt for the user name and the client address, refusing it when either is locked.
   * @throws ERR_LICENSING_LOCKED (detail.retryAfter in seconds)
   */
  attempt(user: string, address: string | undefined): Promise<void>;
  /** The login succeeded: both counters start again. */
  succeeded(user: string, address: string | undefined): Promise<void>;
}

/** Throttling on `sql` at `now()`. */
export function loginThrottle(
  sql: Sql,
  now: () => Date,
  limits: { readonly maxFailures: number; readonly clientMaxFailures: number },
): LoginThrottle {
  const subjects = (user: string, address: string | undefined) =>
    [
      { subject: `u:${user}`, max: limits.maxFailures },
      { subject: `a:${address ?? "unknown"}`, max: limits.clientMaxFailures },
    ] as const;
  return {
    async attempt(user, address) {
      const nowMs = now().getTime();
      const lockedUntil = await sql.transaction(async (tx) => {
        for (const { subject } of subjects(user, address)) {
          const row = await tx.get("SELECT locked_until FROM licensing_throttle WHERE subject = ?", [
            subject,
          ]);
          const until = row === undefined ? 0 : Number(row.locked_until);
          if (until > nowMs) return until;
        }
        for (const { subject, max } of subjects(user, address)) {
          const row = await tx.get(
            "INSERT INTO licensing_throttle (subject, failures, locked_until) VALUES (?, 1, 0) " +
              "ON CONFLICT (subject) DO UPDATE SET failures = licensing_throttle.failures + 1 RETURNING failures",
            [subject],
          );
          const lock = lockoutMsOf(Number(row?.failures ?? 1), max);
          if (lock > 0)
            await tx.run("UPDATE licensing_throttle SET locked_until = ? WHERE subject = ?", [
              nowMs + lock,
              subject,
            ]);
        }
        return 0;
      });
      if (lockedUntil > 0) {
        const retryAfter = Math.max(1, Math.ceil((lockedUntil - nowMs) / 1000));
        throw new KeywardError(
          "ERR_LICENSING_LOCKED",
          `too many failed logins: retry after ${retryAfter} s`,
          {
            detail: { retryAfter },
          },
        );
      }
    },
    async succeeded(user, address) {
      await sql.transaction(async (tx) => {
        for (const { subject } of subjects(user, address))
          await tx.run("UPDATE licensing_throttle SET failures = 0, locked_until = 0 WHERE subject = ?", [
            subject,
          ]);
      });
    },
  };
}
