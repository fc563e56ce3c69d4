/**
 * A bounded memo of signature checks, so that a warm verifier does not re-verify the same chain
 * and collateral signatures on every quote. Only the (time-independent) signature result is kept;
 * validity windows and revocation are checked by the callers.
 *
 * An entry is found by the signature bytes and holds its signer (by identity: the same parsed
 * certificate or key object) and a copy of the signed bytes; a hit requires both to be the same.
 * So a lookup costs a map access and a memcmp, not a digest of the signed bytes.
 *
 * @module
 */
import { bytesEqual } from "../bytes/equal.ts";

/** A bounded LRU of signature results keyed by signer and signed bytes. */
export interface SignatureCache {
  /**
   * The cached result of `check` for this signer, signed bytes and signature, computing it once.
   * `signer` is compared by identity: pass the object whose key `check` uses.
   */
  check(signer: object, signed: Uint8Array, signature: Uint8Array, check: () => boolean): boolean;
  readonly size: number;
}

interface Entry {
  readonly signer: object;
  readonly signed: Uint8Array;
  readonly ok: boolean;
}

/** A new cache holding at most `maxEntries` results (least recently used evicted first). */
export function createSignatureCache(maxEntries = 4096): SignatureCache {
  const entries = new Map<string, Entry>();
  return {
    check(signer, signed, signature, check) {
      // latin1 maps each byte to one character: the key is the signature, exactly.
      const key = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString(
        "latin1",
      );
      const hit = entries.get(key);
      if (hit !== undefined && hit.signer === signer && bytesEqual(hit.signed, signed)) {
        entries.delete(key);
        entries.set(key, hit);
        return hit.ok;
      }
      const ok = check();
      // Copies: the caller's bytes may be views on buffers it reuses.
      entries.delete(key);
      entries.set(key, { signer, signed: signed.slice(), ok });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      return ok;
    },
    get size() {
      return entries.size;
    },
  };
}
