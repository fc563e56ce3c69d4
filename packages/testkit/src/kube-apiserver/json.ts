/**
 * Reading loosely typed JSON objects (request bodies) without casts at every step.
 *
 * @module
 */

/** A JSON object. */
export type Obj = Record<string, unknown>;

/** `x` when it is a JSON object, else undefined. */
export function obj(x: unknown): Obj | undefined {
  return x !== null && typeof x === "object" && !Array.isArray(x) ? (x as Obj) : undefined;
}

/** `x` when it is an array, else an empty one. */
export function arr(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

/** `x` when it is a string, else undefined. */
export function str(x: unknown): string | undefined {
  return typeof x === "string" ? x : undefined;
}

/** `x` when it is a number, else undefined. */
export function num(x: unknown): number | undefined {
  return typeof x === "number" ? x : undefined;
}

/** A deep copy of a JSON value. */
export function clone<T>(x: T): T {
  return structuredClone(x);
}

/** Deep equality of JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  const oa = obj(a);
  const ob = obj(b);
  if (oa === undefined || ob === undefined) return false;
  const ka = Object.keys(oa);
  if (ka.length !== Object.keys(ob).length) return false;
  return ka.every((k) => Object.hasOwn(ob, k) && jsonEqual(oa[k], ob[k]));
}
