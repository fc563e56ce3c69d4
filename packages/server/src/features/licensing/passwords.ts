/**
 * Password hashing: argon2id (RFC 9106) through `@node-rs/argon2`, with the OWASP Password Storage
 * Cheat Sheet's parameters passed explicitly (m = 19456 KiB, t = 2, p = 1), so a change of the
 * library's defaults cannot weaken them. A pepper — 32 bytes derived from the service's stable key (kept across master-key rotations)
 * (HKDF-SHA-256, info "keyward licensing password pepper v1") — is argon2's secret input K
 * (RFC 9106 §3.1): a stolen database alone does not allow offline guessing.
 *
 * Each hash needs 19 MiB and a core for ~10–50 ms: at most `concurrency` run at once (the rest
 * queue), so a login flood cannot exhaust memory. A login checks its throttling, verifies and
 * records a failure inside one slot, so guesses cannot pile up past a lockout while they queue. An unknown user name is verified against a dummy
 * hash made at start with the same parameters, so the work — and the answer — does not depend on
 * whether the user exists.
 *
 * @module
 */
import { hkdfSync, randomBytes } from "node:crypto";

/** `Algorithm.Argon2id` of @node-rs/argon2 (an ambient const enum, not importable under type stripping). */
const ARGON2ID = 2;

/** OWASP: "Argon2id with a minimum configuration of 19 MiB of memory, an iteration count of 2, and 1 degree of parallelism." */
export const ARGON2_PARAMS = {
  algorithm: ARGON2ID,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const;

/** Hashes and verifies passwords with the service's pepper. */
export interface PasswordHasher {
  /** The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password`. */
  hash(password: string): Promise<string>;
  /**
   * Whether `password` matches `phc` (a dummy hash when the user is unknown: same work, false).
   * Not limited by itself: call it inside {@link PasswordHasher.slot}.
   */
  verify(phc: string | undefined, password: string): Promise<boolean>;
  /** Runs `work` in one of the `concurrency` hashing slots (the rest queue). */
  slot<T>(work: () => Promise<T>): Promise<T>;
}

/** The pepper: 32 bytes from the service's stable key (kernel/stable-key.ts), which a master-key rotation keeps. */
export function pepperOf(stableKey: Uint8Array): Buffer {
  return Buffer.from(
    hkdfSync("sha256", stableKey, new Uint8Array(0), "keyward licensing password pepper v1", 32),
  );
}

/** A hasher with `pepper`, running at most `concurrency` hashes at once. */
export async function passwordHasher(pepper: Uint8Array, concurrency = 2): Promise<PasswordHasher> {
  const secret = Buffer.from(pepper);
  let running = 0;
  const waiting: (() => void)[] = [];
  const limited = async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
  // Loaded on first use: a native addon that a service without the licensing listener (and its
  // single executable, which carries the addon as an asset) never needs to load.
  const { hash, verify } = await import("@node-rs/argon2");
  const options = { ...ARGON2_PARAMS, secret };
  const dummy = await hash(randomBytes(32).toString("base64"), options);
  return {
    hash: (password) => limited(() => hash(password, options)),
    async verify(phc, password) {
      const matches = await verify(phc ?? dummy, password, { secret }).catch(() => false);
      return phc !== undefined && matches;
    },
    slot: limited,
  };
}
