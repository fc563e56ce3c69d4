import { KeywardError } from "@keyward/attest/errors";
import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJson, reportRejection, say } from "../output.ts";
import type { adminDeletePolicy } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin delete-policy ID [--admin HOST:PORT | store flags]` — a stored policy (files stay). */
export async function run({
  values,
  positionals,
  json,
}: Parsed<typeof adminDeletePolicy>): Promise<ExitCode> {
  const id = positionals[0] as string;
  const target = await openAdminTarget(values);
  try {
    const { existed } = await target.deletePolicy(id);
    if (!existed)
      return reportRejection(new KeywardError("ERR_SERVICE_NOT_FOUND", `no stored policy "${id}"`), json, {
        id,
        deleted: false,
      });
    if (json) printJson({ id, deleted: true });
    else say(`policy ${id} deleted`);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
