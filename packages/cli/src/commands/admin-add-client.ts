import { dataDir } from "../config.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import type { adminAddClient } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin add-client NAME [--data-dir DIR] [--json]` — issues another operator's client certificate. */
export async function run({ values, positionals, json }: Parsed<typeof adminAddClient>): Promise<ExitCode> {
  const { addAdminClient, adminDir } = await import("@keyward/server/admin");
  const dir = dataDir(values["data-dir"]);
  const c = addAdminClient(dir, positionals[0] as string);
  const out = {
    operator: c.name,
    adminDir: adminDir(dir),
    files: [`clients/${c.name}.pem`, `clients/${c.name}.key`],
  };
  if (json) printJson(out);
  else say(`operator ${c.name}: certificate and key written to ${out.adminDir}/clients/ (the key is 0600)`);
  return EXIT.ok;
}
