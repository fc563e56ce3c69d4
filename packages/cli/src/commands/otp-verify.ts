import { readSync } from "node:fs";
import { openAdminTarget } from "../admin-target.ts";
import { required, usageError } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { otpVerify } from "../specs/otp.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward otp verify --account NAME --code CODE|- [--admin HOST:PORT] [--json]` — verifies and
 * consumes the code: exit 0 accepted (`{ accepted, account, timeStep }`); a refusal
 * (ERR_OTP_REPLAYED, ERR_OTP_INVALID, ERR_OTP_LOCKED with `retryAfter`) is exit 1 with the error
 * object. The code is never echoed, in a message or in the output.
 */
export async function run({ values, json }: Parsed<typeof otpVerify>): Promise<ExitCode> {
  const account = required(values.account, "account", otpVerify);
  let code = required(values.code, "code", otpVerify);
  if (code === "-") code = firstLineOfStdin();
  // A malformed code is the service's to refuse (ERR_OTP_INVALID, counted as a failure); only
  // what cannot be a code at all is a usage error here.
  if (code.length === 0 || code.length > 16)
    usageError("--code must be the 6 or 8 digits of a code", otpVerify);
  const target = await openAdminTarget(values);
  try {
    const accepted = await target.verifyOtp(account, code);
    if (json) printJson({ accepted: true, account: accepted.account, timeStep: accepted.timeStep });
    else say(`accepted: a code of ${accepted.account} for time step ${accepted.timeStep} (now used)`);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}

// The first line of stdin, reading at most 64 bytes (a code is 6 to 8 digits).
function firstLineOfStdin(): string {
  const buf = Buffer.alloc(64);
  let n = 0;
  for (;;) {
    let got: number;
    try {
      got = readSync(0, buf, n, buf.length - n, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      throw e;
    }
    n += got;
    if (got === 0 || n === buf.length || buf.subarray(0, n).includes(10)) break;
  }
  return buf.subarray(0, n).toString("utf8").split("\n")[0]?.trim() ?? "";
}
