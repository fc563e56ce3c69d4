/**
 * OTP accounts: one per task or role, never per person (a phished code of one task is useless for
 * another). Each has its own random secret (20 bytes for SHA1, RFC 4226 §4 R6; 32 and 64 for
 * SHA256 and SHA512), sealed like any stored secret (sealing.ts) and never returned by a listing,
 * a log or an error. Every change is audited in the transaction that makes it.
 *
 * The one-time enrollment ticket (`enrollment = 'open'`) is consumed by one conditional UPDATE,
 * so two enrollments racing — on one replica or several — hand the secret over once.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { AuditEvent } from "../../audit/chain.ts";
import type { Store } from "../../store/contract.ts";
import { appendInTransaction } from "../../store/group-commit.ts";
import type { Row, SqlRunner } from "../../store/sql.ts";
import { checkAccountName, checkIssuer, checkRoles } from "./names.ts";
import { openOtpSecret, sealOtpSecret } from "./sealing.ts";
import { DEFAULT_TOTP, OTP_ALGORITHMS, type OtpAlgorithm, type TotpParameters } from "./totp.ts";

/** An account as listed: never its secret. */
export interface OtpAccount extends TotpParameters {
  readonly name: string;
  readonly issuer: string;
  readonly roles: readonly string[];
  readonly disabled: boolean;
  /** `open`: its one-time enrollment may still be used; `used`: it was. */
  readonly enrollment: "open" | "used";
  readonly enrolledAt?: string;
  readonly enrolledBy?: string;
  /** Consecutive failures so far (reset by an accepted code). */
  readonly failures: number;
  /** ISO time until which it is locked out, when it is. */
  readonly lockedUntil?: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** What the enrollment hands over once: the secret and what the key URI needs. */
export interface Enrollment extends TotpParameters {
  readonly name: string;
  readonly issuer: string;
  readonly secret: Uint8Array;
}

/** Locked until an administrator re-enables the account (100 consecutive failures). */
export const LOCKED_FOR_GOOD = 8_640_000_000_000_000;

const COLUMNS =
  "name, issuer, roles, algorithm, digits, period, generation, last_step, failures, locked_until, disabled, enrollment, enrolled_at, enrolled_by, created_at, created_by";

/** An account from its row (integers may come back as text from PostgreSQL). */
export function accountOf(r: Row, nowMs: number): OtpAccount {
  const lockedUntil = Number(r.locked_until);
  return {
    name: String(r.name),
    issuer: String(r.issuer),
    roles: JSON.parse(String(r.roles)) as string[],
    algorithm: String(r.algorithm) as OtpAlgorithm,
    digits: Number(r.digits),
    period: Number(r.period),
    disabled: Number(r.disabled) !== 0,
    enrollment: r.enrollment === "used" ? "used" : "open",
    ...(r.enrolled_at === null || r.enrolled_at === undefined ? {} : { enrolledAt: String(r.enrolled_at) }),
    ...(r.enrolled_by === null || r.enrolled_by === undefined ? {} : { enrolledBy: String(r.enrolled_by) }),
    failures: Number(r.failures),
    ...(lockedUntil > nowMs
      ? {
          lockedUntil:
            lockedUntil >= LOCKED_FOR_GOOD ? "until re-enabled" : new Date(lockedUntil).toISOString(),
        }
      : {}),
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
  };
}

/** What creating an account takes. */
export interface NewAccount {
  readonly name: string;
  readonly issuer: string;
  readonly roles?: readonly string[];
  readonly algorithm?: string;
  readonly digits?: number;
  readonly period?: number;
}

function parametersOf(a: NewAccount): TotpParameters {
  const algorithm = OTP_ALGORITHMS.find((x) => x === (a.algorithm ?? DEFAULT_TOTP.algorithm));
  const digits = a.digits ?? DEFAULT_TOTP.digits;
  const period = a.period ?? DEFAULT_TOTP.period;
  if (algorithm === undefined)
    throw new KeywardError(
      "ERR_OTP_ACCOUNT_INVALID",
      `algorithm must be one of ${OTP_ALGORITHMS.join(", ")}`,
    );
  if (digits !== 6 && digits !== 8)
    throw new KeywardError("ERR_OTP_ACCOUNT_INVALID", "digits must be 6 or 8");
  if (!Number.isInteger(period) || period < 15 || period > 120)
    throw new KeywardError("ERR_OTP_ACCOUNT_INVALID", "period must be 15 to 120 seconds");
  return { algorithm, digits, period };
}

const SECRET_BYTES: Readonly<Record<OtpAlgorithm, number>> = { SHA1: 20, SHA256: 32, SHA512: 64 };

/** The account operations over `store`, sealing with `masterKey()`. */
export function otpAccounts(store: Store, masterKey: () => Uint8Array, now: () => Date) {
  const sql = store.sql;
  const audited = <T>(event: AuditEvent, f: (tx: SqlRunner) => Promise<T>) =>
    sql.transaction(async (tx) => {
      const r = await f(tx);
      await appendInTransaction(tx, [{ event, at: now().toISOString() }]);
      return r;
    });
  const get = async (tx: SqlRunner, name: string) => {
    const r = await tx.get(`SELECT ${COLUMNS} FROM otp_accounts WHERE name = ?`, [name]);
    if (r === undefined) throw new KeywardError("ERR_OTP_ACCOUNT_NOT_FOUND", `no OTP account "${name}"`);
    return r;
  };

  return {
    /**
     * Creates account `a.name` with a fresh secret; its enrollment ticket is open.
     * @throws ERR_OTP_ACCOUNT_INVALID, ERR_OTP_ACCOUNT_EXISTS
     */
    async create(subject: string, a: NewAccount): Promise<OtpAccount> {
      const name = checkAccountName(a.name);
      const issuer = checkIssuer(a.issuer);
      const roles = checkRoles(a.roles ?? []);
      const p = parametersOf(a);
      const secret = randomBytes(SECRET_BYTES[p.algorithm]);
      try {
        const sealed = sealOtpSecret(masterKey(), name, 1, secret);
        const at = now().toISOString();
        const detail = { account: name, issuer, roles: [...roles], algorithm: p.algorithm };
        return await audited({ action: "otp.account.create", outcome: "ok", subject, detail }, async (tx) => {
          const inserted = await tx.get(
            `INSERT INTO otp_accounts (${COLUMNS}, wrapped_key, ciphertext)
             VALUES (?, ?, ?, ?, ?, ?, 1, -1, 0, 0, 0, 'open', NULL, NULL, ?, ?, ?, ?)
             ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
            [
              name,
              issuer,
              JSON.stringify(roles),
              p.algorithm,
              p.digits,
              p.period,
              at,
              subject,
              sealed.wrappedKey,
              sealed.ciphertext,
            ],
          );
          if (inserted === undefined)
            throw new KeywardError("ERR_OTP_ACCOUNT_EXISTS", `an OTP account "${name}" exists already`);
          return accountOf(inserted, now().getTime());
        });
      } finally {
        secret.fill(0);
      }
    },

    /** Every account, by name (never a secret). */
    async list(): Promise<OtpAccount[]> {
      const rows = await sql.all(`SELECT ${COLUMNS} FROM otp_accounts ORDER BY name`);
      return rows.map((r) => accountOf(r, now().getTime()));
    },

    /** One account. @throws ERR_OTP_ACCOUNT_NOT_FOUND */
    async get(name: string): Promise<OtpAccount> {
      return accountOf(await get(sql, checkAccountName(name)), now().getTime());
    },

    /** Disables an account: its codes are refused, its enrollment too. @throws ERR_OTP_ACCOUNT_NOT_FOUND */
    disable(subject: string, name: string): Promise<OtpAccount> {
      checkAccountName(name);
      return audited(
        { action: "otp.account.disable", outcome: "ok", subject, detail: { account: name } },
        async (tx) => {
          const r = await tx.get(`UPDATE otp_accounts SET disabled = 1 WHERE name = ? RETURNING ${COLUMNS}`, [
            name,
          ]);
          if (r === undefined)
            throw new KeywardError("ERR_OTP_ACCOUNT_NOT_FOUND", `no OTP account "${name}"`);
          return accountOf(r, now().getTime());
        },
      );
    },

    /** Enables an account again and clears its lockout. @throws ERR_OTP_ACCOUNT_NOT_FOUND */
    enable(subject: string, name: string): Promise<OtpAccount> {
      checkAccountName(name);
      return audited(
        { action: "otp.account.enable", outcome: "ok", subject, detail: { account: name } },
        async (tx) => {
          const r = await tx.get(
            `UPDATE otp_accounts SET disabled = 0, failures = 0, locked_until = 0 WHERE name = ? RETURNING ${COLUMNS}`,
            [name],
          );
          if (r === undefined)
            throw new KeywardError("ERR_OTP_ACCOUNT_NOT_FOUND", `no OTP account "${name}"`);
          return accountOf(r, now().getTime());
        },
      );
    },

    /**
     * Re-enrollment: a new secret (the old one stops working at once), a new time-step watermark
     * and an open ticket. An administrator's change, so it passes the step-up.
     * @throws ERR_OTP_ACCOUNT_NOT_FOUND
     */
    async reenroll(subject: string, name: string): Promise<OtpAccount> {
      checkAccountName(name);
      return audited(
        { action: "otp.account.reenroll", outcome: "ok", subject, detail: { account: name } },
        async (tx) => {
          const old = await get(tx, name);
          const generation = Number(old.generation) + 1;
          const secret = randomBytes(SECRET_BYTES[String(old.algorithm) as OtpAlgorithm] ?? 20);
          try {
            const sealed = sealOtpSecret(masterKey(), name, generation, secret);
            const r = await tx.get(
              `UPDATE otp_accounts SET generation = ?, wrapped_key = ?, ciphertext = ?, last_step = -1,
               failures = 0, locked_until = 0, enrollment = 'open', enrolled_at = NULL, enrolled_by = NULL
             WHERE name = ? RETURNING ${COLUMNS}`,
              [generation, sealed.wrappedKey, sealed.ciphertext, name],
            );
            return accountOf(r as Row, now().getTime());
          } finally {
            secret.fill(0);
          }
        },
      );
    },

    /**
     * Consumes the account's one-time enrollment ticket and returns its secret, once: one
     * conditional UPDATE decides, on every engine and across replicas.
     * @throws ERR_OTP_ENROLLMENT_USED, ERR_OTP_ACCOUNT_DISABLED, ERR_OTP_ACCOUNT_NOT_FOUND
     */
    async consumeEnrollment(name: string, subject: string): Promise<Enrollment> {
      const r = await sql.get(
        `UPDATE otp_accounts SET enrollment = 'used', enrolled_at = ?, enrolled_by = ?
         WHERE name = ? AND enrollment = 'open' AND disabled = 0
         RETURNING name, issuer, algorithm, digits, period, generation, wrapped_key, ciphertext`,
        [now().toISOString(), subject, name],
      );
      if (r === undefined) {
        const a = await get(sql, name);
        if (Number(a.disabled) !== 0)
          throw new KeywardError("ERR_OTP_ACCOUNT_DISABLED", `OTP account "${name}" is disabled`);
        throw new KeywardError(
          "ERR_OTP_ENROLLMENT_USED",
          `OTP account "${name}" was enrolled already; re-enrollment needs an administrator (keyward admin otp reenroll-account)`,
        );
      }
      const secret = openOtpSecret(masterKey(), name, Number(r.generation), {
        wrappedKey: r.wrapped_key as Uint8Array,
        ciphertext: r.ciphertext as Uint8Array,
      });
      return {
        name,
        issuer: String(r.issuer),
        algorithm: String(r.algorithm) as OtpAlgorithm,
        digits: Number(r.digits),
        period: Number(r.period),
        secret,
      };
    },
  };
}

/** The operations of {@link otpAccounts}. */
export type OtpAccounts = ReturnType<typeof otpAccounts>;
