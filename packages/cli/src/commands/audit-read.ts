import { openAdminTarget } from "../admin-target.ts";
import { usageError } from "../args.ts";
import { EXIT, type ExitCode, printJsonLine, say } from "../output.ts";
import { auditRead } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward audit read [--from SEQ] [--limit N | --all] [--admin HOST:PORT | store flags] [--json]`:
 * the entries, paged from the store; when `--limit` stops the listing before the log's end, a note
 * on stderr says so and where to go on (`--from NEXT`), so a bounded listing is never mistaken for
 * the whole log.
 */
export async function run({ values, json }: Parsed<typeof auditRead>): Promise<ExitCode> {
  const from = Number(values.from ?? "1");
  if (values.all === true && values.limit !== undefined)
    usageError("--all and --limit exclude each other", auditRead);
  const limit = values.all === true ? Number.MAX_SAFE_INTEGER : Number(values.limit ?? "1000");
  if (!Number.isSafeInteger(from) || from < 1) usageError("--from: an entry number from 1", auditRead);
  if (!Number.isSafeInteger(limit) || limit < 1) usageError("--limit: a number from 1", auditRead);
  const target = await openAdminTarget(values);
  try {
    // Pages of at most 10,000 (the Admin listener's bound) until `limit` entries are printed.
    let next = from;
    let left = limit;
    while (left > 0) {
      const page = await target.readAudit(next, Math.min(left, 10_000));
      for (const e of page) {
        if (json) printJsonLine(e);
        else
          say(
            `${e.seq}  ${e.at}  ${e.action}  ${e.outcome}  ${e.subject}${e.policyId === undefined ? "" : `  policy ${e.policyId}`}  ${e.hash.slice(0, 16)}…`,
          );
      }
      if (page.length === 0) break;
      left -= page.length;
      next = (page[page.length - 1]?.seq ?? next) + 1;
    }
    if (left === 0 && (await target.readAudit(next, 1)).length > 0)
      process.stderr.write(
        `keyward: stopped after ${limit} entries (--limit); more follow: --from ${next}, or --all\n`,
      );
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
