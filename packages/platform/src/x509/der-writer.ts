/**
 * A small DER writer (X.690 §10): definite minimal lengths, canonical INTEGER and BOOLEAN. What
 * the simulated platform and RA-TLS need to issue certificates and CRLs with custom extensions.
 *
 * @module
 */
import { concatBytes } from "@keyward/attest/bytes";

/** One TLV with definite, minimal length. */
export function derTlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.byteLength;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else if (n < 0x100) header = [tag, 0x81, n];
  else if (n < 0x10000) header = [tag, 0x82, n >> 8, n & 0xff];
  else if (n < 0x1000000) header = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  else header = [tag, 0x84, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return concatBytes(Uint8Array.from(header), content);
}

/** SEQUENCE of the given encodings. */
export function derSequence(...items: readonly Uint8Array[]): Uint8Array {
  return derTlv(0x30, concatBytes(...items));
}

/** SET of the given encodings (in the order given; callers pass one element or sorted ones). */
export function derSet(...items: readonly Uint8Array[]): Uint8Array {
  return derTlv(0x31, concatBytes(...items));
}

/** A non-negative INTEGER from a number or big-endian magnitude bytes. */
export function derInteger(value: number | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError("derInteger: non-negative safe integer");
    const out: number[] = [];
    let v = value;
    do {
      out.unshift(v % 256);
      v = Math.floor(v / 256);
    } while (v > 0);
    bytes = Uint8Array.from(out);
  } else {
    let i = 0;
    while (i < value.byteLength - 1 && value[i] === 0) i++;
    bytes = value.subarray(i);
  }
  if ((bytes[0] ?? 0) >= 0x80) bytes = concatBytes(Uint8Array.of(0), bytes);
  return derTlv(0x02, bytes.byteLength === 0 ? Uint8Array.of(0) : bytes);
}

/** ENUMERATED. */
export function derEnumerated(value: number): Uint8Array {
  const i = derInteger(value);
  i[0] = 0x0a;
  return i;
}

/** BOOLEAN (DER: 0xFF for true). */
export function derBoolean(value: boolean): Uint8Array {
  return derTlv(0x01, Uint8Array.of(value ? 0xff : 0x00));
}

/** NULL. */
export function derNull(): Uint8Array {
  return Uint8Array.of(0x05, 0x00);
}

/** OBJECT IDENTIFIER from dotted form. */
export function derOid(oid: string): Uint8Array {
  const arcs = oid.split(".").map(Number);
  const [a = 0, b = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const chunk = [arc & 0x7f];
    let v = Math.floor(arc / 128);
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...chunk);
  }
  return derTlv(0x06, Uint8Array.from(out));
}

/** OCTET STRING. */
export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(0x04, bytes);
}

/** BIT STRING with no unused bits. */
export function derBitString(bytes: Uint8Array): Uint8Array {
  return derTlv(0x03, concatBytes(Uint8Array.of(0), bytes));
}

/** UTF8String. */
export function derUtf8(text: string): Uint8Array {
  return derTlv(0x0c, new TextEncoder().encode(text));
}

/** UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds, Zulu. */
export function derTime(date: Date): Uint8Array {
  const iso = date.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return derTlv(0x17, new TextEncoder().encode(digits.slice(2)));
  return derTlv(0x18, new TextEncoder().encode(digits));
}

/** A context-specific constructed tag [n] around `content` (EXPLICIT tagging). */
export function derExplicit(n: number, content: Uint8Array): Uint8Array {
  return derTlv(0xa0 | n, content);
}
