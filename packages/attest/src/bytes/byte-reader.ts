/**
 * The one way to read untrusted bytes. Every read checks what is left first, so no length taken
 * from the input can move the cursor past the end; every call names its byte order.
 *
 * @module
 */
import { KeywardError } from "../errors/keyward-error.ts";

/**
 * The name of a structure in error messages: a string, or an object that makes it on demand (a
 * nested reader names itself after its parent only when a message needs it).
 */
export type StructureName = string | { toString(): string };

/**
 * A cursor over untrusted bytes. Byte fields come back as views into the input (no copies):
 * copy before you keep them past the input's lifetime.
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  // The window of `bytes` this reader covers: offsets are relative to #start.
  readonly #start: number;
  readonly #length: number;
  #dataView: DataView | undefined;
  readonly #what: StructureName;
  #offset = 0;

  /**
   * @param what names the structure in error messages, e.g. "TDX quote".
   * @param start, end the window of `bytes` to read (default: all of it); nested readers use it
   *   to share one array instead of making a view per element.
   */
  constructor(bytes: Uint8Array, what: StructureName, start = 0, end: number = bytes.byteLength) {
    if (
      !(
        Number.isSafeInteger(start) &&
        Number.isSafeInteger(end) &&
        start >= 0 &&
        start <= end &&
        end <= bytes.byteLength
      )
    ) {
      throw new KeywardError("ERR_INTERNAL", `${what}: window ${start}..${end} of ${bytes.byteLength} bytes`);
    }
    this.#bytes = bytes;
    this.#start = start;
    this.#length = end - start;
    this.#what = what;
  }

  // Made on the first 64-bit read (16- and 32-bit integers are assembled from bytes: most readers
  // never need a view). It covers exactly this window: `bytes` may be a window on a larger buffer.
  get #view(): DataView {
    this.#dataView ??= new DataView(this.#bytes.buffer, this.#bytes.byteOffset + this.#start, this.#length);
    return this.#dataView;
  }

  /** The name given at construction, for messages of callers. */
  get what(): string {
    return String(this.#what);
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes not yet consumed. */
  get remaining(): number {
    return this.#length - this.#offset;
  }

  /** Where the cursor is in the array given at construction (for readers sharing that array). */
  get position(): number {
    return this.#start + this.#offset;
  }

  u8(): number {
    return this.#bytes[this.#start + this.#take(1)] as number;
  }
  u16le(): number {
    const i = this.#start + this.#take(2);
    const b = this.#bytes;
    return (b[i] as number) | ((b[i + 1] as number) << 8);
  }
  u32le(): number {
    const i = this.#start + this.#take(4);
    const b = this.#bytes;
    return (
      ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16)) +
      (b[i + 3] as number) * 0x1000000
    );
  }
  u64le(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }
  u16be(): number {
    const i = this.#start + this.#take(2);
    const b = this.#bytes;
    return ((b[i] as number) << 8) | (b[i + 1] as number);
  }
  u32be(): number {
    const i = this.#start + this.#take(4);
    const b = this.#bytes;
    return (
      (b[i] as number) * 0x1000000 +
      (((b[i + 1] as number) << 16) | ((b[i + 2] as number) << 8) | (b[i + 3] as number))
    );
  }
  u64be(): bigint {
    return this.#view.getBigUint64(this.#take(8), false);
  }

  /** Exactly `n` bytes, as a view. */
  bytes(n: number): Uint8Array {
    const start = this.#start + this.#take(n);
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
    const nonZero = firstNonZero(rest);
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

// Real TDX quotes carry kilobytes of zero padding: compared with memcmp a page at a time.
const ZEROS = Buffer.alloc(4096);

function firstNonZero(bytes: Uint8Array): number {
  for (let start = 0; start < bytes.byteLength; start += ZEROS.byteLength) {
    const n = Math.min(ZEROS.byteLength, bytes.byteLength - start);
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset + start, n);
    if (chunk.compare(ZEROS, 0, n) !== 0) return start + chunk.findIndex((b) => b !== 0);
  }
  return -1;
}
