import { KeywardError } from "@keyward/attest/errors";
import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJson, reportRejection, say } from "../output.ts";
import type { adminDeleteSecret } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin delete-secret NAME [--admin HOST:PORT | store flags]` — every version; audited. */
export async function run({
  values,
  positionals,
  json,
}: Parsed<typeof adminDeleteSecret>): Promise<ExitCode> {
  const name = positionals[0] as string;
  const target = await openAdminTarget(values);
  try {
    const { existed } = await target.deleteSecret(name);
    if (!existed)
      return reportRejection(new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", `no secret "${name}"`), json, {
        name,
        deleted: false,
      });
    if (json) printJson({ name, deleted: true });
    else say(`secret ${name} deleted (every version)`);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
