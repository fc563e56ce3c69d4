/**
 * The closed catalogue of error codes, one file per area under `codes/`. Codes are API: add new
 * ones, never rename or reuse one. `docs/errors.md` is generated from this catalogue.
 *
 * @module
 */

import { cborCodes } from "./codes/cbor.ts";
import { collateralCodes } from "./codes/collateral.ts";
import { dcapCodes } from "./codes/dcap.ts";
import { enclaveCodes } from "./codes/enclave.ts";
import { generalCodes } from "./codes/general.ts";
import { launcherCodes } from "./codes/launcher.ts";
import { policyCodes } from "./codes/policy.ts";
import { ratlsCodes } from "./codes/ratls.ts";
import { serviceCodes } from "./codes/service.ts";
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
  ...serviceCodes,
  ...launcherCodes,
} as const;

/** A stable, machine-readable error code (`ERR_<AREA>_<PROBLEM>`). */
export type ErrorCode = keyof typeof errorDocs;

/** True when `s` is a known error code. */
export function isErrorCode(s: string): s is ErrorCode {
  return Object.hasOwn(errorDocs, s);
}
