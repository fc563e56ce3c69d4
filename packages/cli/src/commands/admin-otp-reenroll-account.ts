import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import type { adminOtpReenrollAccount } from "../specs/otp.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin otp reenroll-account NAME [--admin HOST:PORT | store flags] [--json]`. */
export async function run({
  values,
  positionals,
  json,
}: Parsed<typeof adminOtpReenrollAccount>): Promise<ExitCode> {
  const target = await openAdminTarget(values);
  try {
    const account = await target.reenrollOtpAccount(positionals[0] as string);
    if (json) printJson(account);
    else
      say(
        `OTP account ${account.name} has a new secret and an open one-time enrollment (the old secret no longer works)`,
      );
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
