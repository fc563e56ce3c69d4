/**
 * Constant-time equality for secrets (MACs, tokens, OTP codes, nonces we issued).
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// Per-process MAC key: both sides are MACed first, so the comparison is always 32 bytes against
// 32 whatever the inputs' lengths, and timingSafeEqual never throws on a length mismatch.
const macKey = randomBytes(32);

/** Equality for secrets whose lengths may differ, in time independent of where they differ. */
export function secretEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const ma = createHmac("sha256", macKey).update(a).digest();
  const mb = createHmac("sha256", macKey).update(b).digest();
  return timingSafeEqual(ma, mb);
}
