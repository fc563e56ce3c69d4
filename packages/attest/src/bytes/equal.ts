/**
 * Equality for public values (measurements, report data against our own nonce). Lengths must be
 * equal: nothing is padded or truncated before comparing. For secrets use `secretEqual`.
 *
 * @module
 */

/** True when `a` and `b` have the same length and content. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when every byte is zero. */
export function isAllZero(a: Uint8Array): boolean {
  for (const b of a) if (b !== 0) return false;
  return true;
}

/** The concatenation of `parts` as a new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
