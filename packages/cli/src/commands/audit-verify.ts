import { KeywardError } from "@keyward/attest/errors";
import { openAdminTarget } from "../admin-target.ts";
import { EXIT, type ExitCode, paint, printJson, reportRejection, say } from "../output.ts";
import { progress } from "../progress.ts";
import type { auditVerify } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward audit verify [--json] [--expect-head HASH] [--admin HOST:PORT | store flags]`: exit 0
 * intact, 1 broken. `--expect-head` also fails when the chain's head is not a hash recorded earlier
 * (a chain cut short at its end still links; only a head kept elsewhere reveals it).
 */
export async function run({ values, json }: Parsed<typeof auditVerify>): Promise<ExitCode> {
  const target = await openAdminTarget(values);
  try {
    const expected = values["expect-head"];
    const line = progress("verifying the audit chain");
    let verdict: Awaited<ReturnType<typeof target.verifyAudit>>;
    try {
      // Streamed to the log's real head in constant memory; the expected head is looked for on the way.
      verdict = await target.verifyAudit({
        ...(expected === undefined ? {} : { expectHead: expected }),
        onProgress: (checked, total) => line.step(`${checked} of ${total} entries`),
      });
    } finally {
      line.done();
    }
    if (verdict.ok) {
      if (json) printJson(verdict);
      else
        say(
          `${paint(process.stdout, "green", "audit chain intact")}: ${verdict.entries} entries, head ${verdict.head}`,
        );
      return EXIT.ok;
    }
    const where = verdict.brokenAt === undefined ? "" : ` at entry ${verdict.brokenAt}`;
    return reportRejection(
      new KeywardError("ERR_SERVICE_AUDIT_BROKEN", `audit chain BROKEN${where}: ${verdict.problem}`),
      json,
      verdict,
    );
  } finally {
    await target.close();
  }
}
