import { writeFileSync } from "node:fs";
import { type Appraisal, appraise } from "@keyward/attest/appraisal";
import { createDcapVerifier, type DcapVerdict, parseDcapQuote } from "@keyward/attest/dcap";
import { isKeywardError, type KeywardError } from "@keyward/attest/errors";
import { type Certificate, parsePemCertificates } from "@keyward/attest/x509";
import { required } from "../args.ts";
import { parseTime, readCollateral, readPolicy, readQuote, trustAnchors } from "../inputs.ts";
import { EXIT, type ExitCode, emphasis, printJson, reportRejection, say, warn } from "../output.ts";
import { reportHtml } from "../report/html.ts";
import { certificateChain, quoteSections } from "../report/quote-fields.ts";
import { explainTcb } from "../report/tcb-explain.ts";
import { type Outcome, outcomeOf, summaryRows } from "../report/verdict-text.ts";
import { quoteReport } from "../specs/quote.ts";
import type { Parsed } from "../specs/types.ts";
import { version } from "../version.ts";

/**
 * `keyward quote report QUOTE --collateral FILE --html OUT.html [--policy FILE] [--at ISO-8601]
 * [--trust-sim | --sim-root FILE] [--json]` — verifies as `quote verify` does and writes the HTML
 * report, also when the quote is rejected or fails a check (then exit 1). A quote that cannot even
 * be decoded gets no report.
 */
export async function run({ values, positionals, json }: Parsed<typeof quoteReport>): Promise<ExitCode> {
  const quotePath = positionals[0] as string;
  const out = required(values.html, "html", quoteReport);
  const bytes = readQuote(quotePath);
  const collateral = readCollateral(required(values.collateral, "collateral", quoteReport));
  const at = values.at === undefined ? new Date() : parseTime(values.at);
  const policy = values.policy === undefined ? undefined : await readPolicy(values.policy);
  const anchors = trustAnchors(values["trust-sim"] === true, values["sim-root"], values["data-dir"]);
  const quote = parseDcapQuote(bytes);

  let verdict: DcapVerdict | undefined;
  let failure: KeywardError | undefined;
  try {
    verdict = createDcapVerifier({ anchors }).verify(bytes, collateral, at);
  } catch (e) {
    if (!isKeywardError(e)) throw e;
    failure = e;
  }
  const appraisal: Appraisal | undefined =
    verdict === undefined || policy === undefined ? undefined : appraise(verdict, policy);
  const outcome: Outcome =
    failure !== undefined
      ? { kind: "failed", text: `verification failed: ${failure.code}` }
      : outcomeOf(appraisal, values.policy);
  const html = reportHtml({
    quoteFile: quotePath,
    at,
    generatedAt: new Date(),
    generator: `keyward ${version()}`,
    outcome,
    ...(failure === undefined ? {} : { failure: { code: failure.code, message: failure.message } }),
    ...(verdict === undefined ? {} : { summary: summaryRows(verdict, at), advisoryIds: verdict.advisoryIds }),
    ...(appraisal === undefined ? {} : { appraisal }),
    ...(values.policy === undefined ? {} : { policySource: values.policy }),
    ...withTcb(quote, collateral),
    pckChain: safeChain(() => certificateChain(quote)),
    collateralChain: safeChain(() => parsePemCertificates(collateral.tcbInfo.issuerChainPem, 4)),
    sections: quoteSections(quote),
  });
  writeFileSync(out, html);
  const result = { html: out, outcome };
  if (failure !== undefined) return reportRejection(failure, json, result);
  if (json) printJson({ ...result, ...(appraisal === undefined ? {} : { appraisal }) });
  else say(`report written to ${out}: ${emphasis(process.stdout)(outcome.kind, outcome.text)}`);
  if (outcome.kind === "rejected") {
    warn(`keyward: rejected: ${outcome.text}`);
    return EXIT.rejected;
  }
  return EXIT.ok;
}

function withTcb(
  quote: ReturnType<typeof parseDcapQuote>,
  collateral: Parameters<typeof explainTcb>[1],
): { tcb?: NonNullable<ReturnType<typeof explainTcb>> } {
  const tcb = explainTcb(quote, collateral);
  return tcb === undefined ? {} : { tcb };
}

// A chain that does not parse is shown as absent: the verdict above says what failed.
function safeChain(f: () => Certificate[]): Certificate[] {
  try {
    return f();
  } catch {
    return [];
  }
}
