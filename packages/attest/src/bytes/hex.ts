/**
 * Hex at the edges (JSON, CLI, logs); bytes everywhere inside.
 *
 * @module
 */
import { KeywardError } from "../errors/keyward-error.ts";

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * Bytes from hex; rejects odd lengths and non-hex characters (Buffer.from silently stops at the
 * first bad character, which would turn a typo into a shorter value).
 * @throws ERR_ENCODING_INVALID
 */
export function fromHex(hex: string, field = "hex"): Uint8Array {
  const s = hex.startsWith("0x") ? hex.slice(2) : hex;
  // Buffer.from stops at the first pair that is not hex, so a complete decode has half the length.
  const b = s.length % 2 === 0 ? Buffer.from(s, "hex") : undefined;
  if (b === undefined || b.byteLength * 2 !== s.length) {
    throw new KeywardError("ERR_ENCODING_INVALID", `${field}: not an even-length hex string`);
  }
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
