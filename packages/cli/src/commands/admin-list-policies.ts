import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJsonLine, say } from "../output.ts";
import type { adminListPolicies } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward admin list-policies [--admin HOST:PORT | store flags] [--json]` — in force, in evaluation order. */
export async function run({ values, json }: Parsed<typeof adminListPolicies>): Promise<ExitCode> {
  const target = await openAdminTarget(values);
  try {
    const policies = await target.listPolicies();
    for (const p of policies) {
      if (json)
        printJsonLine({ id: p.id, source: p.source, version: p.version, policy: JSON.parse(p.document) });
      else say(`${p.id}  ${p.source}${p.version > 0 ? ` v${p.version}` : ""}`);
    }
    if (!json && policies.length === 0) say("no policies in force (every caller is refused)");
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
