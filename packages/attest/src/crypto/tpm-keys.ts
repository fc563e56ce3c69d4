/**
 * Public keys from the raw forms a TPM gives them (ECC point coordinates, RSA modulus).
 *
 * @module
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { KeywardError } from "../errors/keyward-error.ts";

/** An EC public key from its X and Y coordinates (left-padded to the curve size). */
export function ecPublicKeyFromPoint(
  crv: "P-256" | "P-384" | "P-521",
  size: number,
  x: Uint8Array,
  y: Uint8Array,
): KeyObject {
  if (x.byteLength > size || y.byteLength > size) {
    throw new KeywardError("ERR_KEY_INVALID", `${crv} point: coordinate larger than ${size} bytes`);
  }
  try {
    return createPublicKey({
      format: "jwk",
      key: { kty: "EC", crv, x: b64(pad(x, size)), y: b64(pad(y, size)) },
    });
  } catch (cause) {
    throw new KeywardError("ERR_KEY_INVALID", `${crv} point: not on the curve`, { cause });
  }
}

/** An RSA public key from its modulus and exponent. */
export function rsaPublicKeyFromModulus(n: Uint8Array, exponent: number): KeyObject {
  const e = [];
  let v = exponent;
  while (v > 0) {
    e.unshift(v & 0xff);
    v = Math.floor(v / 256);
  }
  try {
    return createPublicKey({ format: "jwk", key: { kty: "RSA", n: b64(n), e: b64(Uint8Array.from(e)) } });
  } catch (cause) {
    throw new KeywardError("ERR_KEY_INVALID", "RSA public key: invalid modulus or exponent", { cause });
  }
}

/** Left-pads `b` with zeros to `size` bytes. */
export function pad(b: Uint8Array, size: number): Uint8Array {
  if (b.byteLength >= size) return b;
  const out = new Uint8Array(size);
  out.set(b, size - b.byteLength);
  return out;
}

function b64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64url");
}
