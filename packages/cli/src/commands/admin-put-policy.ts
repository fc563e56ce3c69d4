import { readTextBounded } from "@keyward/platform/io";
import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import type { adminPutPolicy } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin put-policy FILE [--admin HOST:PORT | store flags] [--json]` — validates one policy
 * (JSON or YAML, by extension or content) and stores its next version; replicas apply it within seconds.
 */
export async function run({ values, positionals, json }: Parsed<typeof adminPutPolicy>): Promise<ExitCode> {
  const file = positionals[0] as string;
  const format = /\.ya?ml$/i.test(file) ? "yaml" : /\.json$/i.test(file) ? "json" : "";
  const document = readTextBounded(file, { kind: "policy", what: "policy" });
  const target = await openAdminTarget(values);
  try {
    const { id, version } = await target.putPolicy(document, format);
    if (json) printJson({ id, version });
    else say(`policy ${id} stored as version ${version}`);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
