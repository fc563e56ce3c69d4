/**
 * OBJECT IDENTIFIER contents (X.690 §8.19): checked strictly (minimal base-128 arcs, a ceiling on
 * the size) and turned into dotted text.
 *
 * @module
 */
import type { StructureName } from "../bytes/byte-reader.ts";
import { KeywardError } from "../errors/keyward-error.ts";

/** The same rules as {@link decodeOid}, without building the text. */
export function checkOid(c: Uint8Array, what: StructureName, field: string): void {
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

/** The text of the OID whose content is `bytes[start..end)`, decoded once per distinct encoding. */
export function oidText(
  bytes: Uint8Array,
  start: number,
  end: number,
  what: StructureName,
  field: string,
): string {
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
export function decodeOid(c: Uint8Array, what: StructureName, field: string): string {
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

function malformed(what: StructureName, message: string): never {
  throw new KeywardError("ERR_DER_MALFORMED", `${what}: ${message}`);
}
