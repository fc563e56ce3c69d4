import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";
import { readBytes } from "../read-input.ts";

/**
 * `keyward admin explain (--audit-seq N | --evidence FILE) [--policy ID] [--json]` — replays the
 * decision recorded in audit entry N, or verifies and appraises evidence (an RA-TLS certificate,
 * PEM or DER, or a DCAP quote), against one policy or all in force, and shows every rule.
 * Exit 0 when a policy accepts, 1 when none does.
 */
export const command: Command = {
  summary: "replay a stored decision, or appraise evidence, against the policies, rule by rule",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...ADMIN_FLAGS,
      "audit-seq": { type: "string" },
      evidence: { type: "string" },
      policy: { type: "string" },
    });
    const seq = values["audit-seq"] === undefined ? undefined : Number(values["audit-seq"]);
    if (
      positionals.length > 0 ||
      (seq === undefined) === (values.evidence === undefined) ||
      (seq !== undefined && (!Number.isSafeInteger(seq) || seq < 1))
    )
      usageError("usage: keyward admin explain (--audit-seq N | --evidence FILE) [--policy ID]");
    const subject =
      seq !== undefined ? { auditSeq: seq } : { evidence: readBytes(values.evidence as string, "evidence") };
    const target = await openAdminTarget(values);
    try {
      const x = await target.explain(subject, values.policy ?? "");
      if (values.json === true) printJson(x);
      else {
        for (const a of x.appraisals) {
          process.stdout.write(`policy ${a.policyId}: ${a.accepted ? "accepted" : "rejected"}\n`);
          for (const r of a.results)
            process.stdout.write(
              `  ${r.passed ? "pass" : "FAIL"} ${r.rule}: expected ${r.expected}; actual ${r.actual}\n`,
            );
        }
        process.stdout.write(
          x.acceptedPolicyId === undefined
            ? "decision: refused\n"
            : `decision: policy ${x.acceptedPolicyId}\n`,
        );
      }
      return x.acceptedPolicyId === undefined ? EXIT.rejected : EXIT.ok;
    } finally {
      await target.close();
    }
  },
};
