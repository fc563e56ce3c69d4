/**
 * The closed catalogue of error codes, one file per area under `codes/`. Codes are API: add new
 * ones, never rename or reuse one. `docs/errors.md` is generated from this catalogue.
 *
 * @module
 */
import { generalCodes } from "./codes/general.ts";

/** Every code with its one-line description. */
export const errorDocs = {
  ...generalCodes,
} as const;

/** A stable, machine-readable error code (`ERR_<AREA>_<PROBLEM>`). */
export type ErrorCode = keyof typeof errorDocs;

/** True when `s` is a known error code. */
export function isErrorCode(s: string): s is ErrorCode {
  return Object.hasOwn(errorDocs, s);
}
