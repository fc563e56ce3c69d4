import { openAdminTarget } from "../admin-target.ts";
import { required, usageError } from "../args.ts";
import { EXIT, type ExitCode, printJson, warn } from "../output.ts";
import { adminOtpCreateAccount } from "../specs/otp.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin otp create-account NAME --issuer ISSUER [--role ROLE]... [--admin HOST:PORT]` —
 * creates the account with a fresh secret and an open one-time enrollment; prints the account as
 * JSON, with or without --json (never the secret). Other algorithms or digits than SHA1/6 get a warning: Google Authenticator
 * on Android, Microsoft Authenticator and Authy ignore them and would show wrong codes.
 */
export async function run({
  values,
  positionals,
  json,
}: Parsed<typeof adminOtpCreateAccount>): Promise<ExitCode> {
  const name = positionals[0] as string;
  const issuer = required(values.issuer, "issuer", adminOtpCreateAccount);
  const period = values.period === undefined ? undefined : Number(values.period);
  if (period !== undefined && !/^[0-9]{2,3}$/.test(values.period ?? ""))
    usageError(
      `--period must be a whole number of seconds (15-120), not "${values.period}"`,
      adminOtpCreateAccount,
    );
  const target = await openAdminTarget(values);
  try {
    const account = await target.createOtpAccount({
      name,
      issuer,
      roles: values.role ?? [],
      ...(values.algorithm === undefined ? {} : { algorithm: values.algorithm }),
      ...(values.digits === undefined ? {} : { digits: Number(values.digits) }),
      ...(period === undefined ? {} : { period }),
    });
    if (account.algorithm !== "SHA1" || account.digits !== 6 || account.period !== 30)
      warn(
        `keyward: warning: ${account.algorithm}, ${account.digits} digits, ${account.period} s: Google Authenticator (Android), Microsoft Authenticator and Authy ignore anything but SHA1, 6 digits, 30 s`,
      );
    // JSON always: other tools call this command exactly so and read the account from stdout (the
    // command form is a contract of issue 12); --json is accepted for uniformity.
    void json;
    printJson(account);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
