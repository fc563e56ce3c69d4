/**
 * Login throttling (OWASP Authentication Cheat Sheet; NIST SP 800-63B §5.2.2), per user name and per
 * client address, shared by every replica through the database.
 *
 * The lock is checked, the password verified and a failure counted inside one of the hasher's
 * slots (passwords.ts), so guesses queued behind a lockout are refused when their turn comes: at
 * most as many guesses as hash at once (2) are evaluated past the threshold. While locked the
 * password is not even hashed (a right one is refused too). A successful login clears both
 * counters in the transaction that opens its session (one commit on the happy path). After `maxFailures` consecutive failures the subject is locked for 60 s,
 * doubling with each further failure up to 15 minutes. Unknown user names are throttled exactly like
 * known ones, so lockouts do not reveal which names exist.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { Sql, SqlRunner } from "../../store/sql.ts";

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
   * Refuses the login when the user name or the client address is locked; else says whether either
   * has failures to clear on success.
   * @throws ERR_LICENSING_LOCKED (detail.retryAfter in seconds)
   */
  check(user: string, address: string | undefined): Promise<{ readonly failures: boolean }>;
  /** Counts a failure for both, locking each that reached its threshold. */
  failed(user: string, address: string | undefined): Promise<void>;
  /** The statements that clear both counters after a success (run in the caller's transaction). */
  clear(tx: SqlRunner, user: string, address: string | undefined): Promise<void>;
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
    async check(user, address) {
      const nowMs = now().getTime();
      const [u, a] = subjects(user, address);
      const rows = await sql.all(
        "SELECT subject, failures, locked_until FROM licensing_throttle WHERE subject IN (?, ?)",
        [u.subject, a.subject],
      );
      const lockedUntil = Math.max(0, ...rows.map((r) => Number(r.locked_until)));
      if (lockedUntil > nowMs) {
        const retryAfter = Math.max(1, Math.ceil((lockedUntil - nowMs) / 1000));
        throw new KeywardError(
          "ERR_LICENSING_LOCKED",
          `too many failed logins: retry after ${retryAfter} s`,
          {
            detail: { retryAfter },
          },
        );
      }
      return { failures: rows.some((r) => Number(r.failures) > 0) };
    },
    async failed(user, address) {
      const nowMs = now().getTime();
      await sql.transaction(async (tx) => {
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
      });
    },
    async clear(tx, user, address) {
      for (const { subject } of subjects(user, address))
        await tx.run("UPDATE licensing_throttle SET failures = 0, locked_until = 0 WHERE subject = ?", [
          subject,
        ]);
    },
  };
}
