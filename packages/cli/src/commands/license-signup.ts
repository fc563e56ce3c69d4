import { required } from "../args.ts";
import { licensingClient, readPassword } from "../license-session.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { licenseSignup } from "../specs/licensing.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward license signup --user NAME --server HOST:PORT --ca FILE [--password-file FILE]` — exit 0
 * when the account was made; ERR_LICENSING_USER_EXISTS or ERR_LICENSING_INPUT_INVALID otherwise.
 */
export async function run({ values, json }: Parsed<typeof licenseSignup>): Promise<ExitCode> {
  const user = required(values.user, "user", licenseSignup);
  // Files first (an unreadable one is ERR_IO whatever else is wrong), then a prompt if needed.
  const fromFile =
    values["password-file"] === undefined
      ? undefined
      : await readPassword(values["password-file"], licenseSignup);
  const client = await licensingClient(values, licenseSignup, false);
  const password = fromFile ?? (await readPassword(undefined, licenseSignup));
  await client.signUp(user, password);
  if (json) printJson({ user });
  else say(`signed up: ${user}`);
  return EXIT.ok;
}
