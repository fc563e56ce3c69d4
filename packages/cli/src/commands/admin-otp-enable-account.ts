import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import type { adminOtpEnableAccount } from "../specs/otp.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin otp enable-account NAME [--admin HOST:PORT | store flags] [--json]`. */
export async function run({
  values,
  positionals,
  json,
}: Parsed<typeof adminOtpEnableAccount>): Promise<ExitCode> {
  const target = await openAdminTarget(values);
  try {
    const account = await target.enableOtpAccount(positionals[0] as string);
    if (json) printJson(account);
    else say(`OTP account ${account.name} enabled again (lockout cleared)`);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
