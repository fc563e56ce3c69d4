import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJsonLine, say } from "../output.ts";
import type { adminListSecrets } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin list-secrets [--admin HOST:PORT | store flags] [--json]` — names and newest versions, never values. */
export async function run({ values, json }: Parsed<typeof adminListSecrets>): Promise<ExitCode> {
  const target = await openAdminTarget(values);
  try {
    const secrets = await target.listSecrets();
    for (const { name, version } of secrets) {
      if (json) printJsonLine({ name, version });
      else say(`${name}  v${version}`);
    }
    if (!json && secrets.length === 0) say("no secrets");
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
