/**
 * Equality for public values (measurements, report data against our own nonce). Lengths must be
 * equal: nothing is padded or truncated before comparing. For secrets use `secretEqual`.
 *
 * @module
 */

/** True when `a` and `b` have the same length and content. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  // Long inputs (certificate chains, signed collateral) go to memcmp; short ones stay in JS, where
  // making two Buffer views would cost more than the loop.
  if (a.byteLength > 64) return Buffer.compare(asBuffer(a), asBuffer(b)) === 0;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function asBuffer(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
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
