/**
 * The limits every request is held to, in one place, whichever path it took.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";

/** Request limits. Names are secret names, key ids or any other granted name. */
export const LIMITS = {
  /** Names one request may ask for. */
  maxNames: 256,
  /** Characters in one name. */
  maxNameLength: 256,
  /** The largest request message (a request of 256 names of 256 bytes fits easily). */
  maxMessageBytes: 1 << 20,
  /** A secret value put through the Admin service. */
  maxSecretBytes: 1 << 20,
  /** A policy document put through the Admin service. */
  maxPolicyBytes: 1 << 16,
  /**
   * The largest request message on the Admin listener: a secret value at its limit with its name
   * and framing. A larger message is refused from its length prefix (or Content-Length), before
   * its body is read.
   */
  maxAdminMessageBytes: (1 << 20) + 64 * 1024,
  /** A DCAP quote on the challenge path. */
  maxQuoteBytes: 64 * 1024,
} as const;

const NAME = /^[A-Za-z0-9_.\-/]+$/;

/**
 * Holds the names of a request to the limits (how many, how long). What they may be is the
 * grant's business: a name no policy grants is refused there.
 * @throws ERR_SERVICE_REQUEST_INVALID
 */
export function checkRequestNames(names: readonly string[]): void {
  if (names.length > LIMITS.maxNames || names.some((n) => n.length > LIMITS.maxNameLength))
    throw new KeywardError(
      "ERR_SERVICE_REQUEST_INVALID",
      `at most ${LIMITS.maxNames} names of at most ${LIMITS.maxNameLength} characters`,
    );
}

/**
 * Checks that a name is safe to store (the policy layer limits what is granted).
 * @throws ERR_SERVICE_REQUEST_INVALID
 */
export function checkSecretName(name: string): void {
  if (name.length === 0 || name.length > LIMITS.maxNameLength || !NAME.test(name))
    throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "secret name must be 1-256 of [A-Za-z0-9_.-/]");
}
