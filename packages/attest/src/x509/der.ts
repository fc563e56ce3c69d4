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
  // The tag and content window of the element #header just read.
  #tag = 0;
  #contentStart = 0;
  #contentLength = 0;

  /**
   * @param start, end the window of `bytes` to read (default: all of it), as `enter` makes them.
   */
  constructor(bytes: Uint8Array, what: string, depth = 0, start = 0, end: number = bytes.byteLength) {
    if (depth > MAX_DEPTH) malformed(what, `nesting deeper than ${MAX_DEPTH}`);
    this.#bytes = bytes;
    this.#r = new ByteReader(bytes, what, start, end);
    this.#depth = depth;
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
    return new DerReader(
      this.#bytes,
      `${this.#r.what} ${field}`,
      this.#depth + 1,
      start,
      start + this.#contentLength,
    );
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
    if (n === 0) malformed(this.#r.what, `${field}: empty INTEGER`);
    if (n > 1 && ((c0 === 0 && c1 < 0x80) || (c0 === 0xff && c1 >= 0x80))) {
      malformed(this.#r.what, `${field}: non-minimal INTEGER`);
    }
    if (c0 >= 0x80) malformed(this.#r.what, `${field}: negative INTEGER`);
    const c = this.#r.bytes(n);
    return c0 === 0 && n > 1 ? c.subarray(1) : c;
  }

  /** A small non-negative INTEGER (or ENUMERATED with `tag`) as a number. */
  smallInteger(field: string, tag: number = TAG.INTEGER): number {
    this.#expect(tag, field);
    const [n, c0, c1] = this.#leading();
    if (n === 0 || n > 6) malformed(this.#r.what, `${field}: INTEGER of ${n} bytes`);
    if (n > 1 && c0 === 0 && c1 < 0x80) malformed(this.#r.what, `${field}: non-minimal INTEGER`);
    if (c0 >= 0x80) malformed(this.#r.what, `${field}: negative INTEGER`);
    let value = 0;
    for (let i = 0; i < n; i++) value = value * 256 + this.#r.u8();
    return value;
  }

  /** A BOOLEAN (DER: 0x00 or 0xFF only). */
  boolean(field: string): boolean {
    this.#expect(TAG.BOOLEAN, field);
    const [n, c0] = this.#leading();
    if (n !== 1 || (c0 !== 0 && c0 !== 0xff)) malformed(this.#r.what, `${field}: not a DER BOOLEAN`);
    this.#r.skip(1);
    return c0 === 0xff;
  }

  /** An OBJECT IDENTIFIER in dotted form. */
  oid(field: string): string {
    this.#expect(TAG.OID, field);
    const start = this.#contentStart;
    const n = this.#contentLength;
    this.#r.skip(n);
    return oidText(this.#bytes, start, start + n, this.#r.what, field);
  }

  /** An OBJECT IDENTIFIER's content bytes, checked as strictly as {@link oid} but not decoded. */
  oidBytes(field: string): Uint8Array {
    this.#expect(TAG.OID, field);
    const c = this.#r.bytes(this.#contentLength);
    checkOid(c, this.#r.what, field);
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
    if (n === 0 || c0 !== 0) malformed(this.#r.what, `${field}: BIT STRING with unused bits`);
    this.#r.skip(1);
    return this.#r.bytes(n - 1);
  }

  /** A UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5 profile: Zulu, seconds, no fractions). */
  time(field: string): Date {
    this.#header();
    const tag = this.#tag;
    const s = ascii.decode(this.#r.bytes(this.#contentLength));
    const utc = tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
    const gen = tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
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
    this.#tag = tag;
    this.#contentStart = this.#r.position;
    this.#contentLength = length;
  }

  #wrongTag(field: string, got: number, tag: number, at: number): never {
    return malformed(
      this.#r.what,
      `${field}: tag 0x${got.toString(16)} at offset ${at}, expected 0x${tag.toString(16)}`,
    );
  }
}

// The same rules as decodeOid, without building the text.
function checkOid(c: Uint8Array, what: string, field: string): void {
  if (c.byteLength === 0 || c.byteLength > 64) malformed(what, `${field}: OID of ${c.byteLength} bytes`);
  let value = 0;
  let fresh = true;
  for (const b of c) {
    if (fresh && b === 0x80) malformed(what, `${field}: non-minimal OID arc`);
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 256) malformed(what, `${field}: OID arc too large`);
    fresh = (b & 0x80) === 0;
    if (fresh) value = 0;
  }
  if (!fresh) malformed(what, `${field}: truncated OID`);
}

// Decoded OIDs by their bytes, as OpenSSL's object table holds the known ones: a certificate
// names the same dozen OIDs every time, and decoding one makes an array and a string. A pure
// function's results, bounded; an OID is decoded (and checked) the first time it is seen.
interface OidNode {
  readonly next: Map<number, OidNode>;
  text?: string;
}
const oidTable: OidNode = { next: new Map() };
let oidNodes = 0;
const MAX_OID_NODES = 4096;

function oidText(bytes: Uint8Array, start: number, end: number, what: string, field: string): string {
  let node = oidTable;
  for (let i = start; i < end; i++) {
    const b = bytes[i] ?? 0;
    let next = node.next.get(b);
    if (next === undefined) {
      if (oidNodes >= MAX_OID_NODES) return decodeOid(bytes.subarray(start, end), what, field);
      next = { next: new Map() };
      node.next.set(b, next);
      oidNodes++;
    }
    node = next;
  }
  node.text ??= decodeOid(bytes.subarray(start, end), what, field);
  return node.text;
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
