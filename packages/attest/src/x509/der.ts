/**
 * A strict DER reader (ITU-T X.690 §10) on top of the ByteReader: definite, minimal lengths of at
 * most 4 bytes, single-byte tags (all X.509 needs), canonical INTEGER/BOOLEAN, and nothing left
 * over. For the parts of X.509 Node does not expose (SGX PCK extensions, CRL entries, signed regions).
 *
 * @module
 */
import { ByteReader, type StructureName } from "../bytes/byte-reader.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { checkOid, oidText } from "./oid.ts";

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
const ascii = new TextDecoder("ascii");

/**
 * Reads DER elements one after another from `bytes`; `end()` checks that nothing is left. Nested
 * readers share the one array (a window each), and primitive values are read in place: a
 * certificate or CRL is walked without a view per element.
 */
export class DerReader {
  readonly #r: ByteReader;
  readonly #bytes: Uint8Array;
  readonly #depth: number;
  // "<parent> <field>", made only for a message.
  readonly #parent: StructureName;
  readonly #field: string | undefined;
  // The tag and content window of the element #header just read.
  #tag = 0;
  #contentStart = 0;
  #contentLength = 0;

  /**
   * @param what names the structure in error messages.
   * @param start, end the window of `bytes` to read (default: all of it); `enter` also passes the
   *   field, which is appended to `what` in messages.
   */
  constructor(
    bytes: Uint8Array,
    what: StructureName,
    depth = 0,
    start = 0,
    end: number = bytes.byteLength,
    field?: string,
  ) {
    this.#parent = what;
    this.#field = field;
    if (depth > MAX_DEPTH) malformed(this, `nesting deeper than ${MAX_DEPTH}`);
    this.#bytes = bytes;
    this.#r = new ByteReader(bytes, this, start, end);
    this.#depth = depth;
  }

  /** The structure's name, as error messages give it. */
  toString(): string {
    return this.#field === undefined ? String(this.#parent) : `${String(this.#parent)} ${this.#field}`;
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.#r.remaining === 0;
  }

  /** The tag of the next element, without consuming it; undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.#bytes[this.#r.position];
  }

  /** The next element, whatever its tag. */
  any(): DerElement {
    const start = this.#r.position;
    this.#header();
    const content = this.#r.bytes(this.#contentLength);
    return { tag: this.#tag, content, encoded: this.#bytes.subarray(start, this.#r.position) };
  }

  /** The next element, which must have `tag`. */
  element(tag: number, field: string): DerElement {
    const at = this.#r.offset;
    const e = this.any();
    if (e.tag !== tag) this.#wrongTag(field, e.tag, tag, at);
    return e;
  }

  /** A constructed element (SEQUENCE, SET, [n]) as a reader over its content. */
  enter(tag: number, field: string): DerReader {
    this.#expect(tag, field);
    const start = this.#contentStart;
    this.#r.skip(this.#contentLength);
    return new DerReader(this.#bytes, this, this.#depth + 1, start, start + this.#contentLength, field);
  }

  /**
   * Steps into a constructed element with `tag` in place: the reads that follow are its content,
   * until {@link close} with the returned end checks they used exactly that. No reader is made
   * (for the many small SEQUENCEs of CRL entries and names).
   */
  open(tag: number, field: string): number {
    this.#expect(tag, field);
    return this.#contentStart + this.#contentLength;
  }

  /** Ends an element stepped into with {@link open}: the cursor must be exactly at its end. */
  close(end: number, field: string): void {
    const at = this.#r.position;
    if (at !== end) malformed(this, `${field}: content ${at < end ? "left unread" : "overruns its length"}`);
  }

  /** True when the cursor is at `end`, the end of an element stepped into with {@link open}. */
  at(end: number): boolean {
    return this.#r.position >= end;
  }

  /** Consumes the next element, which must have `tag`, without keeping it. */
  skip(tag: number, field: string): void {
    this.#expect(tag, field);
    this.#r.skip(this.#contentLength);
  }

  /** An optional element with `tag`, or undefined. */
  optional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.any() : undefined;
  }

  /** A non-negative INTEGER's minimal big-endian magnitude (leading 00 sign byte removed). */
  unsignedInteger(field: string): Uint8Array {
    this.#expect(TAG.INTEGER, field);
    const [n, c0, c1] = this.#leading();
    if (n === 0) malformed(this, `${field}: empty INTEGER`);
    if (n > 1 && ((c0 === 0 && c1 < 0x80) || (c0 === 0xff && c1 >= 0x80))) {
      malformed(this, `${field}: non-minimal INTEGER`);
    }
    if (c0 >= 0x80) malformed(this, `${field}: negative INTEGER`);
    const c = this.#r.bytes(n);
    return c0 === 0 && n > 1 ? c.subarray(1) : c;
  }

  /** A small non-negative INTEGER (or ENUMERATED with `tag`) as a number. */
  smallInteger(field: string, tag: number = TAG.INTEGER): number {
    this.#expect(tag, field);
    const [n, c0, c1] = this.#leading();
    if (n === 0 || n > 6) malformed(this, `${field}: INTEGER of ${n} bytes`);
    if (n > 1 && c0 === 0 && c1 < 0x80) malformed(this, `${field}: non-minimal INTEGER`);
    if (c0 >= 0x80) malformed(this, `${field}: negative INTEGER`);
    let value = 0;
    for (let i = 0; i < n; i++) value = value * 256 + this.#r.u8();
    return value;
  }

  /** A BOOLEAN (DER: 0x00 or 0xFF only). */
  boolean(field: string): boolean {
    this.#expect(TAG.BOOLEAN, field);
    const [n, c0] = this.#leading();
    if (n !== 1 || (c0 !== 0 && c0 !== 0xff)) malformed(this, `${field}: not a DER BOOLEAN`);
    this.#r.skip(1);
    return c0 === 0xff;
  }

  /** An OBJECT IDENTIFIER in dotted form. */
  oid(field: string): string {
    this.#expect(TAG.OID, field);
    const start = this.#contentStart;
    const n = this.#contentLength;
    this.#r.skip(n);
    return oidText(this.#bytes, start, start + n, this, field);
  }

  /** An OBJECT IDENTIFIER's content bytes, checked as strictly as {@link oid} but not decoded. */
  oidBytes(field: string): Uint8Array {
    this.#expect(TAG.OID, field);
    const c = this.#r.bytes(this.#contentLength);
    checkOid(c, this, field);
    return c;
  }

  /** An OCTET STRING's content. */
  octetString(field: string): Uint8Array {
    this.#expect(TAG.OCTET_STRING, field);
    return this.#r.bytes(this.#contentLength);
  }

  /** A BIT STRING with no unused bits, as its bytes. */
  bitStringBytes(field: string): Uint8Array {
    this.#expect(TAG.BIT_STRING, field);
    const [n, c0] = this.#leading();
    if (n === 0 || c0 !== 0) malformed(this, `${field}: BIT STRING with unused bits`);
    this.#r.skip(1);
    return this.#r.bytes(n - 1);
  }

  /** A UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5 profile: Zulu, seconds, no fractions). */
  time(field: string): Date {
    this.#header();
    const tag = this.#tag;
    const n = this.#contentLength;
    const at = this.#contentStart;
    this.#r.skip(n);
    // YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ, read in place: the year, then five two-digit fields.
    const yearDigits = tag === TAG.UTC_TIME ? 2 : tag === TAG.GENERALIZED_TIME ? 4 : 0;
    const bytes = this.#bytes;
    let ok = yearDigits !== 0 && n === yearDigits + 11 && bytes[at + n - 1] === 0x5a;
    const f = [0, 0, 0, 0, 0, 0]; // year, month, day, hour, minute, second
    for (let i = 0, part = 0, width = yearDigits; ok && part < 6; part++, width = 2) {
      let v = 0;
      for (let k = 0; k < width; k++, i++) {
        const d = (bytes[at + i] ?? 0) - 0x30;
        ok = ok && d >= 0 && d <= 9;
        v = v * 10 + d;
      }
      f[part] = v;
    }
    if (!ok) malformed(this, `${field}: not a UTCTime or GeneralizedTime in Zulu`);
    const [yy = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0] = f;
    // RFC 5280 §4.1.2.5.1: UTCTime years 50..99 are 19xx, 00..49 are 20xx.
    const year = yearDigits === 2 ? (yy >= 50 ? 1900 + yy : 2000 + yy) : yy;
    const t = Date.UTC(year, mo - 1, d, h, mi, se);
    const date = new Date(t);
    if (mo < 1 || mo > 12 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
      malformed(this, `${field}: invalid date ${ascii.decode(bytes.subarray(at, at + n))}`);
    }
    return date;
  }

  /** Fails unless every byte was read. */
  end(): void {
    if (!this.done) malformed(this, `${this.#r.remaining} unexpected bytes at offset ${this.#r.offset}`);
  }

  // Reads the next header, which must have `tag`; the content is next, #contentLength long (and
  // present: checked here, before any value is read from it).
  #expect(tag: number, field: string): void {
    const at = this.#r.offset;
    this.#header();
    if (this.#tag !== tag) this.#wrongTag(field, this.#tag, tag, at);
    if (this.#contentLength > this.#r.remaining) this.#r.skip(this.#contentLength); // throws: truncated
  }

  // The content's length and its first two bytes (0 when absent), without consuming them.
  #leading(): [number, number, number] {
    const n = this.#contentLength;
    const at = this.#contentStart;
    return [n, n > 0 ? (this.#bytes[at] ?? 0) : 0, n > 1 ? (this.#bytes[at + 1] ?? 0) : 0];
  }

  // Reads a tag and a definite length into #tag, #contentStart, #contentLength.
  #header(): void {
    const start = this.#r.offset;
    const tag = this.#r.u8();
    if ((tag & 0x1f) === 0x1f) malformed(this, `multi-byte tag at offset ${start}`);
    const first = this.#r.u8();
    let length = first;
    if (first === 0x80) malformed(this, `indefinite length at offset ${start}`);
    if (first > 0x80) {
      const n = first & 0x7f;
      if (n > 4) malformed(this, `length of ${n} bytes at offset ${start}`);
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + this.#r.u8();
      // X.690 §10.1: the definite form with the minimum number of octets.
      if (length < 0x80 || (n > 1 && length < 256 ** (n - 1))) {
        malformed(this, `non-minimal length at offset ${start}`);
      }
    }
    this.#tag = tag;
    this.#contentStart = this.#r.position;
    this.#contentLength = length;
  }

  #wrongTag(field: string, got: number, tag: number, at: number): never {
    return malformed(
      this,
      `${field}: tag 0x${got.toString(16)} at offset ${at}, expected 0x${tag.toString(16)}`,
    );
  }
}

function malformed(what: StructureName, message: string): never {
  throw new KeywardError("ERR_DER_MALFORMED", `${what}: ${message}`);
}
