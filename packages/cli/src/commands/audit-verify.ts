import { KeywardError } from "@keyward/attest/errors";
import { openAdminTarget, readAllAudit } from "../admin-target.ts";
import { EXIT, type ExitCode, paint, printJson, reportRejection, say } from "../output.ts";
import { withProgress } from "../progress.ts";
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
    let verdict = await withProgress("verifying the audit chain", () => target.verifyAudit());
    const expected = values["expect-head"];
    if (verdict.ok && expected !== undefined) {
      // The recorded head must still be in the chain (entries may have been appended since).
      const all = await withProgress("looking for the expected head", () => readAllAudit(target));
      if (!all.some((e) => e.hash === expected.toLowerCase()))
        verdict = {
          ...verdict,
          ok: false,
          problem: "the expected head is not in the chain (truncated or replaced)",
        };
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
