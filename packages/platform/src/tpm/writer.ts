/**
 * Marshalling TPM 2.0 commands (Part 1 §18, Part 3 headers): big-endian integers and TPM2B
 * buffers, appended in order.
 *
 * @module
 */
import { concatBytes } from "@keyward/attest/bytes";

/** Builds a byte string from big-endian fields. */
export class TpmWriter {
  readonly #parts: Uint8Array[] = [];

  u8(n: number): this {
    this.#parts.push(Uint8Array.of(n & 0xff));
    return this;
  }
  u16(n: number): this {
    this.#parts.push(Uint8Array.of((n >> 8) & 0xff, n & 0xff));
    return this;
  }
  u32(n: number): this {
    this.#parts.push(Uint8Array.of((n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff));
    return this;
  }
  bytes(b: Uint8Array): this {
    this.#parts.push(b);
    return this;
  }
  /** A TPM2B: u16 size, then the bytes. */
  tpm2b(b: Uint8Array): this {
    if (b.byteLength > 0xffff) throw new RangeError("TPM2B larger than 65535 bytes");
    return this.u16(b.byteLength).bytes(b);
  }
  finish(): Uint8Array {
    return concatBytes(...this.#parts);
  }
}

/** A TPML_PCR_SELECTION for the given banks and PCR indices. */
export function pcrSelection(
  banks: readonly { readonly hash: number; readonly pcrs: readonly number[] }[],
): Uint8Array {
  const w = new TpmWriter().u32(banks.length);
  for (const bank of banks) {
    const bitmap = new Uint8Array(3); // PCRs 0..23
    for (const p of bank.pcrs) bitmap[p >> 3] = (bitmap[p >> 3] ?? 0) | (1 << (p & 7));
    w.u16(bank.hash).u8(3).bytes(bitmap);
  }
  return w.finish();
}
