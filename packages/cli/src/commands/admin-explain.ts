import { KeywardError } from "@keyward/attest/errors";
import { readFileBounded } from "@keyward/platform/io";
import { openAdminTarget } from "../admin-target.ts";
import { usageError } from "../args.ts";
import { EXIT, type ExitCode, paint, printJson, reportRejection, say } from "../output.ts";
import { adminExplain } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin explain (--audit-seq N | --evidence FILE) [--policy ID] [--json]` — replays the
 * decision recorded in audit entry N, or verifies and appraises evidence (an RA-TLS certificate,
 * PEM or DER, or a DCAP quote), against one policy or all in force, and shows every rule.
 * Exit 0 when a policy accepts, 1 when none does.
 */
export async function run({ values, json }: Parsed<typeof adminExplain>): Promise<ExitCode> {
  const seq = values["audit-seq"] === undefined ? undefined : Number(values["audit-seq"]);
  if ((seq === undefined) === (values.evidence === undefined))
    usageError("exactly one of --audit-seq N or --evidence FILE", adminExplain);
  if (seq !== undefined && (!Number.isSafeInteger(seq) || seq < 1))
    usageError("--audit-seq: an entry number from 1", adminExplain);
  const subject =
    seq !== undefined
      ? { auditSeq: seq }
      : { evidence: readFileBounded(values.evidence as string, { kind: "evidence", what: "evidence" }) };
  const target = await openAdminTarget(values);
  try {
    const x = await target.explain(subject, values.policy ?? "");
    const accepted = x.acceptedPolicyId !== undefined;
    if (json) {
      if (accepted) printJson(x);
    } else {
      for (const a of x.appraisals) {
        say(
          `policy ${a.policyId}: ${a.accepted ? paint(process.stdout, "green", "accepted") : paint(process.stdout, "red", "rejected")}`,
        );
        for (const r of a.results)
          say(
            `  ${r.passed ? "pass" : paint(process.stdout, "red", "FAIL")} ${r.rule}: expected ${r.expected}; actual ${r.actual}`,
          );
      }
      say(x.acceptedPolicyId === undefined ? "decision: refused" : `decision: policy ${x.acceptedPolicyId}`);
    }
    if (!accepted)
      return reportRejection(
        new KeywardError("ERR_SERVICE_DENIED", "no policy in force accepts these claims"),
        json,
        x,
      );
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
