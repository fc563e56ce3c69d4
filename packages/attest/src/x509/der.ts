/**
 * A strict DER reader (ITU-T X.690 §10) on top of the ByteReader: definite, minimal lengths of at
 * most 4 bytes, single-byte tags (all X.509 needs), canonical INTEGER/BOOLEAN, and nothing left
 * over. For the parts of X.509 Node does not expose (SGX PCK extensions, CRL entries, signed regions).
 *
 * @module
 */
import { ByteReader } from "../bytes/byte-reader.ts";
import { KeywardError } from "../errors/keyward-error.ts";

/** Universal tags used by X.509. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One DER element: its tag, its content, and its whole encoding (header included). */
export interface DerElement {
  readonly tag: number;
  readonly content: Uint8Array;
  readonly encoded: Uint8Array;
}

const MAX_DEPTH = 32;

/** Reads DER elements one after another from `bytes`; `end()` checks that nothing is left. */
export class DerReader {
  readonly #r: ByteReader;
  readonly #bytes: Uint8Array;
  readonly #depth: number;

  constructor(bytes: Uint8Array, what: string, depth = 0) {
    if (depth > MAX_DEPTH) malformed(what, `nesting deeper than ${MAX_DEPTH}`);
    this.#bytes = bytes;
    this.#r = new ByteReader(bytes, what);
    this.#depth = depth;
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.#r.remaining === 0;
  }

  /** The tag of the next element, without consuming it; undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.#bytes[this.#r.offset];
  }

  /** The next element, whatever its tag. */
  any(): DerElement {
    const start = this.#r.offset;
    const tag = this.#r.u8();
    if ((tag & 0x1f) === 0x1f) malformed(this.#r.what, `multi-byte tag at offset ${start}`);
    const first = this.#r.u8();
    let length = first;
    if (first === 0x80) malformed(this.#r.what, `indefinite length at offset ${start}`);
    if (first > 0x80) {
      const n = first & 0x7f;
      if (n > 4) malformed(this.#r.what, `length of ${n} bytes at offset ${start}`);
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + this.#r.u8();
      // X.690 §10.1: the definite form with the minimum number of octets.
      if (length < 0x80 || (n > 1 && length < 256 ** (n - 1))) {
        malformed(this.#r.what, `non-minimal length at offset ${start}`);
      }
    }
    const content = this.#r.bytes(length);
    return { tag, content, encoded: this.#bytes.subarray(start, this.#r.offset) };
  }

  /** The next element, which must have `tag`. */
  element(tag: number, field: string): DerElement {
    const at = this.#r.offset;
    const e = this.any();
    if (e.tag !== tag) {
      malformed(
        this.#r.what,
        `${field}: tag 0x${e.tag.toString(16)} at offset ${at}, expected 0x${tag.toString(16)}`,
      );
    }
    return e;
  }

  /** A constructed element (SEQUENCE, SET, [n]) as a reader over its content. */
  enter(tag: number, field: string): DerReader {
    return new DerReader(this.element(tag, field).content, `${this.#r.what} ${field}`, this.#depth + 1);
  }

  /** An optional element with `tag`, or undefined. */
  optional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.any() : undefined;
  }

  /** A non-negative INTEGER's minimal big-endian magnitude (leading 00 sign byte removed). */
  unsignedInteger(field: string): Uint8Array {
    const c = this.element(TAG.INTEGER, field).content;
    if (c.byteLength === 0) malformed(this.#r.what, `${field}: empty INTEGER`);
    if (c.byteLength > 1 && ((c[0] === 0 && (c[1] ?? 0) < 0x80) || (c[0] === 0xff && (c[1] ?? 0) >= 0x80))) {
      malformed(this.#r.what, `${field}: non-minimal INTEGER`);
    }
    if ((c[0] ?? 0) >= 0x80) malformed(this.#r.what, `${field}: negative INTEGER`);
    return c[0] === 0 && c.byteLength > 1 ? c.subarray(1) : c;
  }

  /** A small non-negative INTEGER (or ENUMERATED with `tag`) as a number. */
  smallInteger(field: string, tag: number = TAG.INTEGER): number {
    const e = this.element(tag, field);
    const c = e.content;
    if (c.byteLength === 0 || c.byteLength > 6)
      malformed(this.#r.what, `${field}: INTEGER of ${c.byteLength} bytes`);
    if (c.byteLength > 1 && c[0] === 0 && (c[1] ?? 0) < 0x80)
      malformed(this.#r.what, `${field}: non-minimal INTEGER`);
    if ((c[0] ?? 0) >= 0x80) malformed(this.#r.what, `${field}: negative INTEGER`);
    let n = 0;
    for (const b of c) n = n * 256 + b;
    return n;
  }

  /** A BOOLEAN (DER: 0x00 or 0xFF only). */
  boolean(field: string): boolean {
    const c = this.element(TAG.BOOLEAN, field).content;
    if (c.byteLength !== 1 || (c[0] !== 0 && c[0] !== 0xff))
      malformed(this.#r.what, `${field}: not a DER BOOLEAN`);
    return c[0] === 0xff;
  }

  /** An OBJECT IDENTIFIER in dotted form. */
  oid(field: string): string {
    return decodeOid(this.element(TAG.OID, field).content, this.#r.what, field);
  }

  /** An OCTET STRING's content. */
  octetString(field: string): Uint8Array {
    return this.element(TAG.OCTET_STRING, field).content;
  }

  /** A BIT STRING with no unused bits, as its bytes. */
  bitStringBytes(field: string): Uint8Array {
    const c = this.element(TAG.BIT_STRING, field).content;
    if (c.byteLength === 0 || c[0] !== 0) malformed(this.#r.what, `${field}: BIT STRING with unused bits`);
    return c.subarray(1);
  }

  /** A UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5 profile: Zulu, seconds, no fractions). */
  time(field: string): Date {
    const e = this.any();
    const s = new TextDecoder("ascii").decode(e.content);
    const utc = e.tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
    const gen =
      e.tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
    const m = utc ?? gen;
    if (m === null) return malformed(this.#r.what, `${field}: not a UTCTime or GeneralizedTime in Zulu`);
    const yy = Number(m[1]);
    // RFC 5280 §4.1.2.5.1: UTCTime years 50..99 are 19xx, 00..49 are 20xx.
    const year = utc !== null ? (yy >= 50 ? 1900 + yy : 2000 + yy) : yy;
    const [, , mo, d, h, mi, se] = m.map(Number);
    const t = Date.UTC(year, (mo ?? 0) - 1, d, h, mi, se);
    const date = new Date(t);
    if (Number.isNaN(t) || date.getUTCDate() !== d || date.getUTCHours() !== h) {
      malformed(this.#r.what, `${field}: invalid date ${s}`);
    }
    return date;
  }

  /** Fails unless every byte was read. */
  end(): void {
    if (!this.done)
      malformed(this.#r.what, `${this.#r.remaining} unexpected bytes at offset ${this.#r.offset}`);
  }
}

/** Decodes OID content bytes strictly (minimal base-128 arcs). */
export function decodeOid(c: Uint8Array, what: string, field: string): string {
  if (c.byteLength === 0 || c.byteLength > 64) malformed(what, `${field}: OID of ${c.byteLength} bytes`);
  const arcs: number[] = [];
  let value = 0;
  let fresh = true;
  for (const b of c) {
    if (fresh && b === 0x80) malformed(what, `${field}: non-minimal OID arc`);
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 256) malformed(what, `${field}: OID arc too large`);
    fresh = (b & 0x80) === 0;
    if (fresh) {
      arcs.push(value);
      value = 0;
    }
  }
  if (!fresh) malformed(what, `${field}: truncated OID`);
  const first = arcs[0] ?? 0;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join(".");
}

function malformed(what: string, message: string): never {
  throw new KeywardError("ERR_DER_MALFORMED", `${what}: ${message}`);
}
