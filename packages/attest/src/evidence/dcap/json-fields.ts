/**
 * Strict readers for the fields of Intel's collateral JSON: every field checked for type and
 * range, hex for length, so a malformed TCB Info is an error and never a silently wrong verdict.
 *
 * @module
 */
import { fromHex } from "../../bytes/hex.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import type { TcbLevelStatus } from "../claims.ts";

/** A JSON object. */
export type JsonObject = { readonly [key: string]: unknown };

/** Reads JSON fields of `what`, throwing ERR_DCAP_COLLATERAL_MALFORMED with the path. */
export class JsonFields {
  readonly #o: JsonObject;
  // The path is only needed in an error: kept as its parts, joined on demand (a TCB Info has
  // hundreds of nested objects).
  readonly #parent: JsonFields | undefined;
  readonly #name: string;
  readonly #index: number;

  /** Reads `value`, an object, named `path` in errors. */
  constructor(value: unknown, path: string, parent?: JsonFields, index = -1) {
    this.#parent = parent;
    this.#name = path;
    this.#index = index;
    if (typeof value !== "object" || value === null || Array.isArray(value))
      fail(this.#path, "not an object");
    this.#o = value as JsonObject;
  }

  get #path(): string {
    const at = this.#index >= 0 ? `${this.#name}[${this.#index}]` : this.#name;
    return this.#parent === undefined ? at : `${this.#parent.#path}.${at}`;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.#o, key);
  }

  string(key: string): string {
    const v = this.#o[key];
    if (typeof v !== "string") fail(`${this.#path}.${key}`, "not a string");
    return v;
  }

  integer(key: string, max = 0xffffffff): number {
    const v = this.#o[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max)
      fail(`${this.#path}.${key}`, `not an integer in 0..${max}`);
    return v;
  }

  hex(key: string, bytes: number): Uint8Array {
    const s = this.string(key);
    if (s.length !== bytes * 2) fail(`${this.#path}.${key}`, `not ${bytes} bytes of hex`);
    return fromHex(s, `${this.#path}.${key}`);
  }

  date(key: string): Date {
    const s = this.string(key);
    const d = new Date(s);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(s) || Number.isNaN(d.getTime())) {
      fail(`${this.#path}.${key}`, "not an ISO 8601 UTC time");
    }
    return d;
  }

  /**
   * A TCB status out of `allowed` (the statuses the structure may carry). QVL refuses any other
   * name (TcbStatus.h `stringToTcbStatus`: STATUS_TCB_UNRECOGNIZED_STATUS).
   */
  status<S extends TcbLevelStatus>(key: string, allowed: readonly S[]): S {
    const s = this.string(key);
    const status = allowed.find((t) => t === s);
    if (status === undefined) fail(`${this.#path}.${key}`, `unrecognized TCB status "${s}"`);
    return status;
  }

  object(key: string): JsonFields {
    return new JsonFields(this.#o[key], key, this);
  }

  array(key: string, max: number): JsonFields[] {
    return this.rawArray(key, max).map((v, i) => new JsonFields(v, key, this, i));
  }

  /**
   * An array of exactly `count` objects `{ "svn": 0..max, … }` (TCB components), as their SVNs.
   * Read in place: a TCB Info has hundreds of them.
   */
  svns(key: string, count: number, max: number): number[] {
    const list = this.rawArray(key, count);
    if (list.length !== count) fail(`${this.#path}.${key}`, `has ${list.length} entries, not ${count}`);
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const c = list[i];
      const svn =
        typeof c === "object" && c !== null && !Array.isArray(c) ? (c as JsonObject).svn : undefined;
      if (typeof svn !== "number" || !Number.isInteger(svn) || svn < 0 || svn > max) {
        fail(`${this.#path}.${key}[${i}].svn`, `not an integer in 0..${max}`);
      }
      out[i] = svn;
    }
    return out;
  }

  rawArray(key: string, max: number): readonly unknown[] {
    const v = this.#o[key];
    if (!Array.isArray(v) || v.length > max) fail(`${this.#path}.${key}`, `not an array of at most ${max}`);
    return v;
  }

  /** Optional advisory IDs: strings like INTEL-SA-00615. */
  advisoryIds(key: string): string[] {
    if (!this.has(key)) return [];
    return this.rawArray(key, 256).map((v, i) => {
      if (typeof v !== "string" || v.length > 64) fail(`${this.#path}.${key}[${i}]`, "not an advisory ID");
      return v;
    });
  }
}

function fail(path: string, problem: string): never {
  throw new KeywardError("ERR_DCAP_COLLATERAL_MALFORMED", `collateral ${path}: ${problem}`, {
    detail: { path },
  });
}
