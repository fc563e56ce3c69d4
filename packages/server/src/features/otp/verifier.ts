/**
 * Verifying a one-time code: each code accepted at most once, consecutive failures throttled per
 * account and per client address, everything shared by the replicas through the database.
 *
 * Acceptance (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP after the
 * successful validation has been issued for the first OTP"): the code is matched within ±1 step in
 * memory, then ONE conditional UPDATE accepts it —
 *
 *   UPDATE otp_accounts SET last_step = S, failures = 0
 *   WHERE name = ? AND generation = ? AND disabled = 0 AND last_step < S AND locked_until <= now
 *     AND NOT EXISTS (a lockout of the client address)
 *
 * so of any number of concurrent submissions of one code, on any replica, exactly one changes the
 * row; the others read why not and fail (`ERR_OTP_REPLAYED`). A read-then-write would accept twice,
 * and a late writer could lower the watermark. The happy path is that one statement (the secret
 * is cached per account generation), so it costs about what a bare conditional UPDATE costs.
 *
 * Throttling (RFC 4226 §7.3; NIST SP 800-63B §5.2.2): a wrong code and a replay are failures.
 * After `maxFailures` consecutive failures the account is locked for `lockoutSeconds`, doubling
 * with each further failure up to 15 minutes; at 100 it stays locked until an administrator
 * enables it again. A client address is locked the same way after `clientMaxFailures`. While
 * locked, codes are not even checked (a right one is refused too), so guessing gains nothing.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { AcceptedCode, CodeContext, PresentedCode } from "../../kernel/second-factor.ts";
import type { Sql } from "../../store/sql.ts";
import { LOCKED_FOR_GOOD } from "./accounts.ts";
import { ACCOUNT_NAME } from "./names.ts";
import { openOtpSecret } from "./sealing.ts";
import { matchingStep, type OtpAlgorithm, type TotpParameters } from "./totp.ts";

/** Throttling settings. */
export interface Throttling {
  /** Consecutive failures per account before a temporary lockout (< 100). */
  readonly maxFailures: number;
  /** Consecutive failures per client address before a temporary lockout. */
  readonly clientMaxFailures: number;
  /** The first lockout in seconds; doubled per further failure, at most {@link MAX_LOCKOUT_SECONDS}. */
  readonly lockoutSeconds: number;
}

/** The longest temporary lockout. */
export const MAX_LOCKOUT_SECONDS = 900;
/** Consecutive failures after which an account stays locked until re-enabled (NIST SP 800-63B §5.2.2). */
export const HARD_FAILURE_LIMIT = 100;
const UNKNOWN_CLIENT = "unknown";
const CACHE_LIMIT = 10_000;

interface CachedSecret extends TotpParameters {
  readonly generation: number;
  readonly secret: Uint8Array;
}

/** A verifier over the OTP tables of `sql`. */
export interface OtpVerifier {
  /**
   * Verifies and consumes `presented` at the current time.
   * @throws ERR_OTP_INVALID, ERR_OTP_REPLAYED, ERR_OTP_LOCKED (detail.retryAfter: seconds), ERR_OTP_ACCOUNT_NOT_FOUND, ERR_OTP_ACCOUNT_DISABLED
   */
  verify(presented: PresentedCode, context: Pick<CodeContext, "clientAddress">): Promise<AcceptedCode>;
  /** The roles of `account` (step-up checks them before a code is consumed). @throws ERR_OTP_ACCOUNT_NOT_FOUND */
  roles(account: string): Promise<readonly string[]>;
}

/** The lockout length after `failures` consecutive failures with threshold `max` (ms). */
export function lockoutMs(failures: number, max: number, baseSeconds: number): number {
  if (failures < max) return 0;
  const seconds = Math.min(baseSeconds * 2 ** Math.min(failures - max, 20), MAX_LOCKOUT_SECONDS);
  return seconds * 1000;
}

/** A verifier on `sql`, opening secrets with `masterKey()`, at `now()`. */
export function otpVerifier(
  sql: Sql,
  masterKey: () => Uint8Array,
  now: () => Date,
  throttling: Throttling,
): OtpVerifier {
  const cache = new Map<string, CachedSecret>();

  const locked = (untilMs: number, nowMs: number, what: string): KeywardError => {
    if (untilMs >= LOCKED_FOR_GOOD)
      return new KeywardError(
        "ERR_OTP_LOCKED",
        `${what} is locked after ${HARD_FAILURE_LIMIT} consecutive failures until an administrator enables it again`,
        { detail: { permanent: true } },
      );
    const retryAfter = Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
    return new KeywardError("ERR_OTP_LOCKED", `${what} is locked out: retry after ${retryAfter} s`, {
      detail: { retryAfter },
    });
  };

  async function load(name: string): Promise<CachedSecret> {
    const r = await sql.get(
      "SELECT algorithm, digits, period, generation, wrapped_key, ciphertext FROM otp_accounts WHERE name = ?",
      [name],
    );
    if (r === undefined) throw new KeywardError("ERR_OTP_ACCOUNT_NOT_FOUND", `no OTP account "${name}"`);
    const generation = Number(r.generation);
    const secret = openOtpSecret(masterKey(), name, generation, {
      wrappedKey: r.wrapped_key as Uint8Array,
      ciphertext: r.ciphertext as Uint8Array,
    });
    const entry = {
      generation,
      secret,
      algorithm: String(r.algorithm) as OtpAlgorithm,
      digits: Number(r.digits),
      period: Number(r.period),
    };
    cache.get(name)?.secret.fill(0);
    if (cache.size >= CACHE_LIMIT) {
      const oldest = cache.keys().next().value as string;
      cache.get(oldest)?.secret.fill(0);
      cache.delete(oldest);
    }
    cache.set(name, entry);
    return entry;
  }

  async function clientLock(address: string, nowMs: number): Promise<KeywardError | undefined> {
    const r = await sql.get("SELECT locked_until FROM otp_clients WHERE address = ?", [address]);
    const until = Number(r?.locked_until ?? 0);
    return until > nowMs ? locked(until, nowMs, "this client address") : undefined;
  }

  // One failure more for the account (when it exists) and the client; locks when over a threshold.
  async function fail(name: string | undefined, address: string, nowMs: number): Promise<void> {
    if (name !== undefined) {
      const r = await sql.get(
        "UPDATE otp_accounts SET failures = failures + 1 WHERE name = ? RETURNING failures",
        [name],
      );
      const failures = Number(r?.failures ?? 0);
      const until =
        failures >= HARD_FAILURE_LIMIT
          ? LOCKED_FOR_GOOD
          : nowMs + lockoutMs(failures, throttling.maxFailures, throttling.lockoutSeconds);
      if (until > nowMs)
        await sql.run("UPDATE otp_accounts SET locked_until = ? WHERE name = ? AND locked_until < ?", [
          until,
          name,
          until,
        ]);
    }
    const c = await sql.get(
      `INSERT INTO otp_clients (address, failures, locked_until) VALUES (?, 1, 0)
       ON CONFLICT (address) DO UPDATE SET failures = otp_clients.failures + 1 RETURNING failures`,
      [address],
    );
    const cuntil =
      nowMs + lockoutMs(Number(c?.failures ?? 0), throttling.clientMaxFailures, throttling.lockoutSeconds);
    if (cuntil > nowMs)
      await sql.run("UPDATE otp_clients SET locked_until = ? WHERE address = ? AND locked_until < ?", [
        cuntil,
        address,
        cuntil,
      ]);
  }

  // Why a code was not accepted: a lockout or state of the account (not counted), or — counted
  // as a failure — `failure` (a wrong code, or a replay when the conditional UPDATE changed nothing).
  async function refusal(
    name: string,
    generation: number,
    address: string,
    nowMs: number,
    failure: "ERR_OTP_INVALID" | "ERR_OTP_REPLAYED",
  ) {
    const r = await sql.get("SELECT generation, disabled, locked_until FROM otp_accounts WHERE name = ?", [
      name,
    ]);
    if (r === undefined) return new KeywardError("ERR_OTP_ACCOUNT_NOT_FOUND", `no OTP account "${name}"`);
    if (Number(r.disabled) !== 0)
      return new KeywardError("ERR_OTP_ACCOUNT_DISABLED", `OTP account "${name}" is disabled`);
    const until = Number(r.locked_until);
    if (until > nowMs) return locked(until, nowMs, `OTP account "${name}"`);
    const client = await clientLock(address, nowMs);
    if (client !== undefined) return client;
    if (Number(r.generation) !== generation) return "stale" as const;
    await fail(name, address, nowMs);
    return failure === "ERR_OTP_REPLAYED"
      ? new KeywardError("ERR_OTP_REPLAYED", "this one-time code was used already: wait for the next one")
      : new KeywardError("ERR_OTP_INVALID", "the one-time code is not valid for this account now");
  }

  async function verifyOnce(
    presented: PresentedCode,
    address: string,
    nowMs: number,
    fresh: boolean,
  ): Promise<AcceptedCode> {
    const name = presented.account;
    const s = (!fresh ? cache.get(name) : undefined) ?? (await load(name));
    const step = matchingStep(s.secret, s, presented.code, nowMs);
    if (step === undefined) {
      const why = await refusal(name, s.generation, address, nowMs, "ERR_OTP_INVALID");
      if (why === "stale") return verifyOnce(presented, address, nowMs, true);
      throw why;
    }
    const r = await sql.get(
      `UPDATE otp_accounts SET last_step = ?, failures = 0
       WHERE name = ? AND generation = ? AND disabled = 0 AND last_step < ? AND locked_until <= ?
         AND NOT EXISTS (SELECT 1 FROM otp_clients WHERE address = ? AND locked_until > ?)
       RETURNING (SELECT failures FROM otp_clients WHERE address = ?) AS client_failures`,
      [step, name, s.generation, step, nowMs, address, nowMs, address],
    );
    if (r === undefined) {
      const why = await refusal(name, s.generation, address, nowMs, "ERR_OTP_REPLAYED");
      if (why === "stale") return verifyOnce(presented, address, nowMs, true);
      throw why;
    }
    if (Number(r.client_failures ?? 0) > 0)
      await sql.run("UPDATE otp_clients SET failures = 0 WHERE address = ? AND locked_until <= ?", [
        address,
        nowMs,
      ]);
    return { account: name, step };
  }

  return {
    async verify(presented, context) {
      const nowMs = now().getTime();
      const address = context.clientAddress ?? UNKNOWN_CLIENT;
      if (!ACCOUNT_NAME.test(presented.account)) {
        await fail(undefined, address, nowMs);
        throw new KeywardError("ERR_OTP_ACCOUNT_NOT_FOUND", "no such OTP account");
      }
      try {
        return await verifyOnce(presented, address, nowMs, false);
      } catch (e) {
        // An unknown account is a failure of the client address (guessing names costs too).
        if (e instanceof KeywardError && e.code === "ERR_OTP_ACCOUNT_NOT_FOUND") {
          const client = await clientLock(address, nowMs);
          if (client !== undefined) throw client;
          await fail(undefined, address, nowMs);
        }
        throw e;
      }
    },
    async roles(account) {
      const r = await sql.get("SELECT roles FROM otp_accounts WHERE name = ?", [account]);
      if (r === undefined) throw new KeywardError("ERR_OTP_ACCOUNT_NOT_FOUND", `no OTP account "${account}"`);
      return JSON.parse(String(r.roles)) as string[];
    },
  };
}
