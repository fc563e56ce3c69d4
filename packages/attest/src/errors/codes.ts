/**
 * The closed catalogue of the library's error codes, one file per area under `codes/`. Codes are
 * API: add new ones, never rename or reuse one. `docs/errors.md` is generated from this catalogue
 * and from the service's (`packages/server/src/errors/`).
 *
 * @module
 */

import { cborCodes } from "./codes/cbor.ts";
import { collateralCodes } from "./codes/collateral.ts";
import { dcapCodes } from "./codes/dcap.ts";
import { enclaveCodes } from "./codes/enclave.ts";
import { generalCodes } from "./codes/general.ts";
import { policyCodes } from "./codes/policy.ts";
import { ratlsCodes } from "./codes/ratls.ts";
import { signerCodes } from "./codes/signer.ts";
import { simCodes } from "./codes/sim.ts";
import { tpmCodes } from "./codes/tpm.ts";
import { x509Codes } from "./codes/x509.ts";

/** Every code with its one-line description. */
export const errorDocs = {
  ...generalCodes,
  ...x509Codes,
  ...dcapCodes,
  ...collateralCodes,
  ...policyCodes,
  ...simCodes,
  ...tpmCodes,
  ...enclaveCodes,
  ...ratlsCodes,
  ...cborCodes,
  ...signerCodes,
} as const;

/**
 * Codes declared by the packages built on this library (the service's catalogue), merged in by
 * TypeScript declaration merging: `declare module "@keyward/attest/errors" { interface
 * ExtraErrorCodes extends Record<keyof typeof theirCodes, true> {} }`. The union stays closed: a
 * code is known only where its catalogue is part of the program.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface ExtraErrorCodes {}

/** The library's own codes. */
export type LibraryErrorCode = keyof typeof errorDocs;

/** A stable, machine-readable error code (`ERR_<AREA>_<PROBLEM>`). */
export type ErrorCode = LibraryErrorCode | keyof ExtraErrorCodes;

/** True when `s` is one of the library's codes (a service checks its own catalogue too). */
export function isErrorCode(s: string): s is LibraryErrorCode {
  return Object.hasOwn(errorDocs, s);
}
