import { type Appraisal, appraise } from "@keyward/attest/appraisal";
import { createDcapVerifier } from "@keyward/attest/dcap";
import { usageError } from "../args.ts";
import {
  fetchCollateral,
  parseTime,
  readCollateral,
  readPolicy,
  readQuote,
  trustAnchors,
} from "../inputs.ts";
import { EXIT, type ExitCode, emphasis, printJson, warn } from "../output.ts";
import { outcomeOf, summaryRows, summaryText } from "../report/verdict-text.ts";
import { quoteVerify } from "../specs/quote.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward quote verify QUOTE (--collateral FILE | --pccs URL) [--at ISO-8601] [--trust-sim]
 * [--sim-root FILE] [--policy FILE] [--json]` — exit 0 verified (and accepted when a policy is
 * given), 1 rejected (a failed check, or a policy rule), 2 usage or unreadable input.
 */
export async function run({ values, positionals, json }: Parsed<typeof quoteVerify>): Promise<ExitCode> {
  if ((values.collateral === undefined) === (values.pccs === undefined))
    usageError("one of --collateral FILE or --pccs URL is required", quoteVerify);
  const quote = readQuote(positionals[0] as string);
  const at = values.at === undefined ? new Date() : parseTime(values.at);
  const policy = values.policy === undefined ? undefined : await readPolicy(values.policy);
  const anchors = trustAnchors(values["trust-sim"] === true, values["sim-root"], values["data-dir"]);
  const collateral =
    values.collateral !== undefined
      ? readCollateral(values.collateral)
      : await fetchCollateral(values.pccs ?? "", quote);

  const verdict = createDcapVerifier({ anchors }).verify(quote, collateral, at);
  const appraisal: Appraisal | undefined = policy === undefined ? undefined : appraise(verdict, policy);
  const outcome = outcomeOf(appraisal, values.policy);
  if (json) printJson({ ...verdict, ...(appraisal === undefined ? {} : { appraisal }) });
  else
    process.stdout.write(summaryText(summaryRows(verdict, at), appraisal, outcome, emphasis(process.stdout)));
  if (appraisal !== undefined && !appraisal.accepted) {
    warn(`keyward: rejected: ${outcome.text}`);
    return EXIT.rejected;
  }
  return EXIT.ok;
}
