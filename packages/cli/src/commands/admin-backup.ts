import { KeywardError } from "@keyward/attest/errors";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { serviceConfigFrom } from "../service-flags.ts";
import type { adminBackup } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin backup --out FILE [--config FILE] [store flags] [--json]` — a consistent copy of
 * the service's database while it serves: SQLite's online backup API, or `pg_dump --format=custom`
 * of the configured schema (`@keyward/server/backup`). The copy is checked (SQLite integrity and
 * the audit chain), made 0600 and linked into place only when `FILE` does not exist. Exit 0 with
 * the report (engine, file, bytes, audit entries and head); 1 with ERR_SERVICE_BACKUP.
 */
export async function run({ values, json }: Parsed<typeof adminBackup>): Promise<ExitCode> {
  const out = values.out;
  if (out === undefined) throw new KeywardError("ERR_USAGE", "--out FILE is required");
  const { backupStore } = await import("@keyward/server/backup");
  const report = await backupStore(await serviceConfigFrom(values), out);
  if (json) printJson(report);
  else
    say(
      `backup of the ${report.engine} store written to ${report.file} (${report.bytes} bytes): audit chain ` +
        `${report.audit.entries} entries, head ${report.audit.head ?? "(empty)"}. Keep the master key apart from it.`,
    );
  return EXIT.ok;
}
