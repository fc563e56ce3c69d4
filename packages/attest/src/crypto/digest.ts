/**
 * Digests through OpenSSL (node:crypto).
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A digest algorithm we allow somewhere. SHA-1 is deliberately absent. */
export type DigestAlgorithm = "sha256" | "sha384" | "sha512";

/** The digest of the concatenation of `parts`. */
export function digest(algorithm: DigestAlgorithm, ...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash(algorithm);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  return digest("sha256", ...parts);
}

/** SHA-384 of the concatenation of `parts`. */
export function sha384(...parts: readonly Uint8Array[]): Uint8Array {
  return digest("sha384", ...parts);
}

/** SHA-512 of the concatenation of `parts`. */
export function sha512(...parts: readonly Uint8Array[]): Uint8Array {
  return digest("sha512", ...parts);
}
