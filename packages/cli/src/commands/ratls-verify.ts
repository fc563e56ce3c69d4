import { appraise, type Policy, policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier } from "@keyward/attest/dcap";
import { isKeywardError } from "@keyward/attest/errors";
import { TCB_STATUSES } from "@keyward/attest/evidence";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { hexFlag, required } from "../args.ts";
import { parseTime, readCertificate, readCollateral, readPolicy, trustAnchors } from "../inputs.ts";
import { EXIT, type ExitCode, emphasis, printJson, reportRejection, say, warn } from "../output.ts";
import { outcomeOf, summaryRows, summaryText } from "../report/verdict-text.ts";
import { ratlsVerify } from "../specs/ratls.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward ratls verify CERT --collateral FILE [--at ISO-8601] [--policy FILE] [--allow-debug]
 * [--trust-sim] [--json]` — exit statuses as `keyward quote verify`.
 */
export async function run({ values: v, positionals, json }: Parsed<typeof ratlsVerify>): Promise<ExitCode> {
  const cert = readCertificate(positionals[0] as string);
  const collateral = readCollateral(required(v.collateral, "collateral", ratlsVerify));
  const at = v.at === undefined ? new Date() : parseTime(v.at);
  const trustSim = v["trust-sim"] === true || v["sim-root"] !== undefined;
  // Without --policy: only what RA-TLS verifiers refuse by default — debug enclaves, and simulated
  // evidence unless its root is trusted — while the TCB status is reported, not judged.
  const base: Policy =
    v.policy === undefined
      ? policyFromObject(
          {
            id: "ratls-default",
            tcbStatuses: [...TCB_STATUSES],
            platforms: trustSim ? ["hardware", "simulated"] : ["hardware"],
          },
          "default",
        )
      : await readPolicy(v.policy);
  const policy: Policy = v["allow-debug"] === true ? { ...base, allowDebug: true } : base;
  const verifier = createDcapVerifier({ anchors: trustAnchors(trustSim, v["sim-root"], v["data-dir"]) });
  const nonce = v.nonce === undefined ? undefined : hexFlag(v.nonce, "--nonce", ratlsVerify);
  let r: ReturnType<typeof verifyRaTlsCertificate>;
  try {
    r = verifyRaTlsCertificate(cert, { verifier, collateral, at, ...(nonce === undefined ? {} : { nonce }) });
  } catch (e) {
    if (!isKeywardError(e) || e.code === "ERR_IO" || e.code === "ERR_USAGE") throw e;
    return reportRejection(e, json);
  }
  const appraisal = appraise(r.verified, policy);
  const outcome =
    v.policy === undefined && appraisal.accepted
      ? {
          kind: "verified" as const,
          text: "signature chain and key binding verified; not appraised against a policy (debug and simulated evidence refused by default)",
        }
      : outcomeOf(appraisal, v.policy ?? "the RA-TLS defaults");
  if (json) printJson({ ...r.verified, format: r.format, validUntil: r.validUntil, appraisal });
  else {
    say(`RA-TLS     ${r.format} evidence in "${cert.subject}"; the quote binds the certificate's key`);
    process.stdout.write(
      summaryText(
        summaryRows(r.verified, at),
        v.policy === undefined ? undefined : appraisal,
        outcome,
        emphasis(process.stdout),
      ),
    );
  }
  if (!appraisal.accepted) {
    warn(`keyward: rejected: ${outcome.text}`);
    return EXIT.rejected;
  }
  return EXIT.ok;
}
