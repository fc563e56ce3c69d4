import { required } from "../args.ts";
import { licensingClient, readPassword, sessionPath, writeSession } from "../license-session.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { licenseLogin } from "../specs/licensing.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward license login --user NAME --server HOST:PORT --ca FILE [--otp ACCOUNT:CODE]` — keeps the
 * tokens in the session file (0600) and prints where, never the tokens.
 */
export async function run({ values, json }: Parsed<typeof licenseLogin>): Promise<ExitCode> {
  const user = required(values.user, "user", licenseLogin);
  // Files first (an unreadable one is ERR_IO whatever else is wrong), then a prompt if needed.
  const fromFile =
    values["password-file"] === undefined
      ? undefined
      : await readPassword(values["password-file"], licenseLogin);
  const client = await licensingClient(values, licenseLogin, false);
  const password = fromFile ?? (await readPassword(undefined, licenseLogin));
  const session = await client.login(user, password, values.otp ?? "");
  writeSession(values, session);
  if (json) printJson({ user, session: sessionPath(values) });
  else say(`logged in as ${user}; session in ${sessionPath(values)}`);
  return EXIT.ok;
}
