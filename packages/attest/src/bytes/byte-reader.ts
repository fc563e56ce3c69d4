/**
 * The one way to read untrusted bytes. Every read checks what is left first, so no length taken
 * from the input can move the cursor past the end; every call names its byte order.
 *
 * @module
 */
import { KeywardError } from "../errors/keyward-error.ts";

/**
 * A cursor over untrusted bytes. Byte fields come back as views into the input (no copies):
 * copy before you keep them past the input's lifetime.
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #offset = 0;

  /** @param what names the structure in error messages, e.g. "TDX quote". */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    // Cover exactly this array: `bytes` may be a window on a larger (pooled) buffer.
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  /** The name given at construction, for messages of callers. */
  get what(): string {
    return this.#what;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes not yet consumed. */
  get remaining(): number {
    return this.#bytes.byteLength - this.#offset;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }
  u16le(): number {
    return this.#view.getUint16(this.#take(2), true);
  }
  u32le(): number {
    return this.#view.getUint32(this.#take(4), true);
  }
  u64le(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }
  u16be(): number {
    return this.#view.getUint16(this.#take(2), false);
  }
  u32be(): number {
    return this.#view.getUint32(this.#take(4), false);
  }
  u64be(): bigint {
    return this.#view.getBigUint64(this.#take(8), false);
  }

  /** Exactly `n` bytes, as a view. */
  bytes(n: number): Uint8Array {
    const start = this.#take(n);
    return this.#bytes.subarray(start, start + n);
  }

  /** Skips `n` reserved bytes. */
  skip(n: number): void {
    this.#take(n);
  }

  /** Everything not yet consumed, as a view. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** A length read from the input, held to a ceiling before anything is sliced, allocated or looped. */
  length(n: number, max: number, field: string): number {
    if (n <= max) return n;
    throw new KeywardError("ERR_BYTES_LIMIT", `${this.#what}: ${field} length ${n} exceeds ${max}`, {
      detail: { field, length: n, max },
    });
  }

  /** Call when the structure is complete: trailing bytes are an error, not padding. */
  end(): void {
    if (this.remaining !== 0) {
      throw new KeywardError(
        "ERR_BYTES_TRAILING",
        `${this.#what}: ${this.remaining} trailing bytes at offset ${this.#offset}`,
        { detail: { offset: this.#offset, trailing: this.remaining } },
      );
    }
  }

  /**
   * For formats whose producers pad to a buffer size: consumes the rest, which must be all zero
   * bytes, and returns how many there were.
   */
  zeroPadding(): number {
    const at = this.#offset;
    const rest = this.rest();
    const nonZero = rest.findIndex((b) => b !== 0);
    if (nonZero >= 0) {
      throw new KeywardError(
        "ERR_BYTES_TRAILING",
        `${this.#what}: non-zero byte at offset ${at + nonZero} after the end of the structure`,
        { detail: { offset: at, trailing: rest.byteLength, firstNonZero: at + nonZero } },
      );
    }
    return rest.byteLength;
  }

  #take(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.remaining) {
      throw new KeywardError(
        "ERR_BYTES_TRUNCATED",
        `${this.#what}: needs ${n} bytes at offset ${this.#offset}, ${this.remaining} left`,
        { detail: { offset: this.#offset, wanted: n, left: this.remaining } },
      );
    }
    const start = this.#offset;
    this.#offset += n;
    return start;
  }
}
