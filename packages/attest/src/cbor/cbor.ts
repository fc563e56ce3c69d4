/**
 * A strict CBOR codec (RFC 8949) for the subset attestation evidence uses: unsigned and negative
 * integers, byte and text strings, arrays, maps, tags, and the simple values false, true and null.
 * Definite lengths only, a depth limit, ceilings on every length, no duplicate map keys, nothing
 * left over. Floats and indefinite lengths are refused.
 *
 * @module
 */
import { ByteReader } from "../bytes/byte-reader.ts";
import { concatBytes } from "../bytes/equal.ts";
import { KeywardError } from "../errors/keyward-error.ts";

/** A tagged item (RFC 8949 §3.4). */
export interface CborTag {
  readonly tag: number;
  readonly value: CborValue;
}

/** A decoded CBOR item. Maps keep their keys (text or integer) in order. */
export type CborValue =
  | number
  | bigint
  | string
  | Uint8Array
  | boolean
  | null
  | readonly CborValue[]
  | ReadonlyMap<string | number, CborValue>
  | CborTag;

const MAX_DEPTH = 16;
const MAX_ITEMS = 4096;
const MAX_BYTES = 1 << 20;

/**
 * Decodes exactly one CBOR item from `bytes`.
 * @throws ERR_CBOR_INVALID, ERR_BYTES_TRUNCATED, ERR_BYTES_LIMIT, ERR_BYTES_TRAILING
 */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const r = new ByteReader(bytes, "CBOR");
  const v = readItem(r, 0);
  r.end();
  return v;
}

/** True when `v` is a tag item. */
export function isCborTag(v: CborValue): v is CborTag {
  return (
    typeof v === "object" &&
    v !== null &&
    !(v instanceof Uint8Array) &&
    !Array.isArray(v) &&
    !(v instanceof Map) &&
    "tag" in v
  );
}

function readItem(r: ByteReader, depth: number): CborValue {
  if (depth > MAX_DEPTH) invalid(`nesting deeper than ${MAX_DEPTH}`);
  const initial = r.u8();
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === 7) return simple(info);
  const arg = readArgument(r, info);
  switch (major) {
    case 0:
      return arg;
    case 1:
      return typeof arg === "bigint" ? -1n - arg : -1 - arg;
    case 2:
      return r.bytes(r.length(Number(arg), MAX_BYTES, "byte string"));
    case 3:
      try {
        return new TextDecoder("utf-8", { fatal: true }).decode(
          r.bytes(r.length(Number(arg), MAX_BYTES, "text string")),
        );
      } catch (cause) {
        if (cause instanceof KeywardError) throw cause;
        return invalid("text string is not UTF-8");
      }
    case 4: {
      const n = r.length(Number(arg), MAX_ITEMS, "array");
      const out: CborValue[] = [];
      for (let i = 0; i < n; i++) out.push(readItem(r, depth + 1));
      return out;
    }
    case 5: {
      const n = r.length(Number(arg), MAX_ITEMS, "map");
      const out = new Map<string | number, CborValue>();
      for (let i = 0; i < n; i++) {
        const key = readItem(r, depth + 1);
        if (typeof key !== "string" && typeof key !== "number")
          invalid("map key is neither text nor a small integer");
        if (out.has(key)) invalid(`duplicate map key ${JSON.stringify(key)}`);
        out.set(key, readItem(r, depth + 1));
      }
      return out;
    }
    default: {
      if (typeof arg === "bigint") invalid("tag number too large");
      return { tag: arg, value: readItem(r, depth + 1) };
    }
  }
}

function readArgument(r: ByteReader, info: number): number | bigint {
  if (info < 24) return info;
  if (info === 24) return r.u8();
  if (info === 25) return r.u16be();
  if (info === 26) return r.u32be();
  if (info === 27) {
    const v = r.u64be();
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  return invalid(
    info === 31 ? "indefinite lengths are not accepted" : `reserved additional information ${info}`,
  );
}

function simple(info: number): CborValue {
  if (info === 20) return false;
  if (info === 21) return true;
  if (info === 22) return null;
  return invalid(
    info >= 25 && info <= 27 ? "floating-point values are not accepted" : `simple value ${info}`,
  );
}

/** Encodes `value` (preferred serialization: shortest argument forms, definite lengths). */
export function encodeCbor(value: CborValue): Uint8Array {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      throw new KeywardError("ERR_CBOR_INVALID", "CBOR: only integers are encoded");
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === "bigint") return value >= 0n ? head(0, value) : head(1, -1n - value);
  if (typeof value === "string") {
    const b = new TextEncoder().encode(value);
    return concatBytes(head(3, b.byteLength), b);
  }
  if (value instanceof Uint8Array) return concatBytes(head(2, value.byteLength), value);
  if (value === false) return Uint8Array.of(0xf4);
  if (value === true) return Uint8Array.of(0xf5);
  if (value === null) return Uint8Array.of(0xf6);
  if (Array.isArray(value)) return concatBytes(head(4, value.length), ...value.map((v) => encodeCbor(v)));
  if (value instanceof Map) {
    const parts: Uint8Array[] = [head(5, value.size)];
    for (const [k, v] of value) parts.push(encodeCbor(k), encodeCbor(v));
    return concatBytes(...parts);
  }
  const tag = value as CborTag;
  return concatBytes(head(6, tag.tag), encodeCbor(tag.value));
}

function head(major: number, n: number | bigint): Uint8Array {
  const m = major << 5;
  const v = BigInt(n);
  if (v < 24n) return Uint8Array.of(m | Number(v));
  if (v < 0x100n) return Uint8Array.of(m | 24, Number(v));
  if (v < 0x10000n) return Uint8Array.of(m | 25, Number(v >> 8n), Number(v & 0xffn));
  if (v < 0x100000000n)
    return Uint8Array.of(m | 26, ...[24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)));
  return Uint8Array.of(
    m | 27,
    ...[56n, 48n, 40n, 32n, 24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)),
  );
}

function invalid(message: string): never {
  throw new KeywardError("ERR_CBOR_INVALID", `CBOR: ${message}`);
}
