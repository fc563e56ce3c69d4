import { openAdminTarget } from "../admin-target.ts";
import { usageError } from "../args.ts";
import { EXIT, type ExitCode, printJsonLine, say } from "../output.ts";
import { auditRead } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward audit read [--from SEQ] [--limit N] [--admin HOST:PORT | store flags] [--json]`: the entries. */
export async function run({ values, json }: Parsed<typeof auditRead>): Promise<ExitCode> {
  const from = Number(values.from ?? "1");
  const limit = Number(values.limit ?? "1000");
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
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
