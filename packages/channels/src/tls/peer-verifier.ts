/**
 * Verifying RA-TLS peers with a cache: results are kept by certificate fingerprint in a bounded
 * cache whose entries expire with the verdict (the certificate's or the collateral's expiry), and
 * concurrent handshakes presenting the same certificate share one verification.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { RaTlsVerdict } from "@keyward/attest/ratls";

/** Verifies a peer certificate (DER); throws a KeywardError when it is refused. */
export type VerifyCertificate = (der: Uint8Array, at: Date) => RaTlsVerdict | Promise<RaTlsVerdict>;

/** A caching front of a {@link VerifyCertificate}. */
export interface PeerVerifier {
  verify(der: Uint8Array): Promise<RaTlsVerdict>;
  /** Entries currently cached. */
  readonly size: number;
}

/** Options of {@link createPeerVerifier}. */
export interface PeerVerifierOptions {
  readonly verify: VerifyCertificate;
  /**
   * Told of every verification: `cached` when a verdict still valid answered it (warm), else the
   * verifier ran (cold; a handshake sharing another's in-flight verification counts as warm);
   * `seconds` from the call to the verdict; the verdict, or the error when it was refused.
   */
  readonly onVerified?: (event: PeerVerification) => void;
  readonly maxEntries?: number;
  readonly now?: () => Date;
}

/** One verification, as {@link PeerVerifierOptions.onVerified} is told of it. */
export interface PeerVerification {
  /** The certificate verified (DER). */
  readonly der: Uint8Array;
  readonly cached: boolean;
  readonly seconds: number;
  readonly verdict?: RaTlsVerdict;
  readonly error?: unknown;
}

/** A peer verifier with a bounded, expiring cache and shared in-flight verifications. */
export function createPeerVerifier(options: PeerVerifierOptions): PeerVerifier {
  const now = options.now ?? (() => new Date());
  const max = options.maxEntries ?? 1024;
  const cache = new Map<string, RaTlsVerdict>();
  const inFlight = new Map<string, Promise<RaTlsVerdict>>();
  return {
    async verify(der) {
      const started = performance.now();
      const observe = options.onVerified;
      const key = createHash("sha256").update(der).digest("base64");
      const hit = cache.get(key);
      const t = now();
      if (hit !== undefined && hit.validUntil > t && hit.certificate.notBefore <= t) {
        observe?.({ der, cached: true, seconds: (performance.now() - started) / 1000, verdict: hit });
        return hit;
      }
      const pending = inFlight.get(key);
      if (pending !== undefined) return pending;
      const p = (async () => options.verify(der, t))()
        .then((verdict) => {
          cache.delete(key);
          cache.set(key, verdict);
          if (cache.size > max) {
            const oldest = cache.keys().next();
            if (oldest.done !== true) cache.delete(oldest.value);
          }
          return verdict;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, p);
      if (observe !== undefined)
        p.then(
          (verdict) =>
            observe({ der, cached: false, seconds: (performance.now() - started) / 1000, verdict }),
          (error: unknown) =>
            observe({ der, cached: false, seconds: (performance.now() - started) / 1000, error }),
        );
      return p;
    },
    get size() {
      return cache.size;
    },
  };
}
