import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJsonLine, say } from "../output.ts";
import type { adminOtpListAccounts } from "../specs/otp.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin otp list-accounts [--admin HOST:PORT | store flags] [--json]` — accounts, never secrets. */
export async function run({ values, json }: Parsed<typeof adminOtpListAccounts>): Promise<ExitCode> {
  const target = await openAdminTarget(values);
  try {
    const accounts = await target.listOtpAccounts();
    for (const a of accounts) {
      if (json) printJsonLine(a);
      else {
        const state = a.disabled
          ? "disabled"
          : a.lockedUntil === undefined
            ? "active"
            : `locked until ${a.lockedUntil}`;
        say(
          `${a.name}  issuer=${JSON.stringify(a.issuer)}  roles=${a.roles.join(",") || "-"}  enrollment=${a.enrollment}  ${state}  failures=${a.failures}`,
        );
      }
    }
    if (!json && accounts.length === 0) say("no OTP accounts");
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
