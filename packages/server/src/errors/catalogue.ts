/**
 * The service's error catalogue: one file per area under `codes/`, registered here by one line.
 * Its codes join the library's closed union (`ErrorCode` of `@keyward/attest/errors`) by declaration
 * merging, so `new KeywardError("ERR_SERVICE_DENIED", …)` type-checks only where this catalogue is
 * part of the program, and a misspelt code never compiles.
 *
 * @module
 */
import { adminCodes } from "./codes/admin.ts";
import { kbsCodes } from "./codes/kbs.ts";
import { launcherCodes } from "./codes/launcher.ts";
import { licensingCodes } from "./codes/licensing.ts";
import { otpCodes } from "./codes/otp.ts";
import { serviceCodes } from "./codes/service.ts";
import { signerRegistryCodes } from "./codes/signer.ts";
import { storeCodes } from "./codes/store.ts";
import { vaultCodes } from "./codes/vault.ts";

/** Every service code with its description and gRPC status. */
export const serviceCatalogue = {
  ...serviceCodes,
  ...adminCodes,
  ...launcherCodes,
  ...otpCodes,
  ...kbsCodes,
  ...vaultCodes,
  ...signerRegistryCodes,
  ...licensingCodes,
  ...storeCodes,
} as const;

/** A code of the service's catalogue. */
export type ServiceErrorCode = keyof typeof serviceCatalogue;

declare module "@keyward/attest/errors" {
  interface ExtraErrorCodes extends Readonly<Record<ServiceErrorCode, true>> {}
}

/** True when `s` is a code of the service's catalogue. */
export function isServiceErrorCode(s: string): s is ServiceErrorCode {
  return Object.hasOwn(serviceCatalogue, s);
}
