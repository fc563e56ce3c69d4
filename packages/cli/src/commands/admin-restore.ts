import { KeywardError } from "@keyward/attest/errors";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { serviceConfigFrom } from "../service-flags.ts";
import type { adminRestore } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin restore --from FILE [--config FILE] [store flags] [--json]` — restores a backup
 * made by `keyward admin backup` into a fresh store (an empty data directory, or a PostgreSQL
 * database without the schema), opens it as the service does (migrations forward; a newer schema
 * is refused with ERR_SERVICE_SCHEMA_NEWER), verifies the audit chain and opens every secret and
 * KMS key version with the master key. Exit 0 with the report; 1 when a check fails
 * (ERR_SERVICE_BACKUP, ERR_SERVICE_SECRET_INTEGRITY, ERR_SERVICE_MASTER_KEY, …).
 */
export async function run({ values, json }: Parsed<typeof adminRestore>): Promise<ExitCode> {
  const from = values.from;
  if (from === undefined) throw new KeywardError("ERR_USAGE", "--from FILE is required");
  const { restoreStore } = await import("@keyward/server/backup");
  const report = await restoreStore(await serviceConfigFrom(values), from);
  if (json) printJson(report);
  else
    say(
      `restored into the ${report.engine} store: audit chain intact (${report.audit.entries} entries, head ` +
        `${report.audit.head ?? "(empty)"}); ${report.secretVersions} secret versions and ${report.keyVersions} ` +
        `key versions open with the master key; schema ${Object.entries(report.schemaVersions)
          .map(([o, v]) => `${o} ${v}`)
          .join(", ")}`,
    );
  return EXIT.ok;
}
