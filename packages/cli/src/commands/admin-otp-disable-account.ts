import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import type { adminOtpDisableAccount } from "../specs/otp.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin otp disable-account NAME [--admin HOST:PORT | store flags] [--json]`. */
export async function run({
  values,
  positionals,
  json,
}: Parsed<typeof adminOtpDisableAccount>): Promise<ExitCode> {
  const target = await openAdminTarget(values);
  try {
    const account = await target.disableOtpAccount(positionals[0] as string);
    if (json) printJson(account);
    else say(`OTP account ${account.name} disabled: its codes and its enrollment are refused`);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
