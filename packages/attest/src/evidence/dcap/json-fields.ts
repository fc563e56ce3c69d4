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
  readonly #path: string;

  constructor(value: unknown, path: string) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) fail(path, "not an object");
    this.#o = value as JsonObject;
    this.#path = path;
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
    return new JsonFields(this.#o[key], `${this.#path}.${key}`);
  }

  array(key: string, max: number): JsonFields[] {
    return this.rawArray(key, max).map((v, i) => new JsonFields(v, `${this.#path}.${key}[${i}]`));
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
