/**
 * A bounded memo of signature checks, so that a warm verifier does not re-verify the same chain
 * and collateral signatures on every quote. Only the (time-independent) signature result is kept;
 * validity windows and revocation are checked on every call.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A bounded LRU of signature results keyed by signer and signed bytes. */
export interface SignatureCache {
  /** The cached result of `check` for this signer and signed bytes, computing it once. */
  check(
    signerFingerprint: Uint8Array,
    signed: Uint8Array,
    signature: Uint8Array,
    check: () => boolean,
  ): boolean;
  readonly size: number;
}

/** A new cache holding at most `maxEntries` results (oldest evicted first). */
export function createSignatureCache(maxEntries = 4096): SignatureCache {
  const entries = new Map<string, boolean>();
  return {
    check(signerFingerprint, signed, signature, check) {
      const key = createHash("sha256")
        .update(signerFingerprint)
        .update(signed)
        .update(signature)
        .digest("base64");
      const hit = entries.get(key);
      if (hit !== undefined) {
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const result = check();
      entries.set(key, result);
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      return result;
    },
    get size() {
      return entries.size;
    },
  };
}
