/**
 * The attestation report as one self-contained HTML page: no script, no external asset (a
 * Content-Security-Policy of `default-src 'none'` forbids the browser to fetch anything), every
 * value escaped. What `keyward quote report` writes.
 *
 * @module
 */
import type { Appraisal } from "@keyward/attest/appraisal";
import type { Certificate } from "@keyward/attest/x509";
import { certificateFields, type Field, type Section } from "./quote-fields.ts";
import type { TcbExplanation } from "./tcb-explain.ts";
import { advisoryUrl } from "./tcb-words.ts";
import type { Outcome, SummaryRow } from "./verdict-text.ts";

/** Everything the page shows. */
export interface ReportInput {
  readonly quoteFile: string;
  readonly at: Date;
  readonly generatedAt: Date;
  readonly generator: string;
  readonly outcome: Outcome;
  /** The failure when verification stopped (code and message). */
  readonly failure?: { readonly code: string; readonly message: string };
  readonly summary?: readonly SummaryRow[];
  readonly advisoryIds?: readonly string[];
  readonly appraisal?: Appraisal;
  readonly policySource?: string;
  readonly tcb?: TcbExplanation;
  readonly pckChain: readonly Certificate[];
  readonly collateralChain: readonly Certificate[];
  readonly sections: readonly Section[];
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const e = escapeHtml;

/** The report page. */
export function reportHtml(r: ReportInput): string {
  const title = `Attestation report: ${r.quoteFile}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${e(r.generator)}">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>Attestation report</h1>
<p class="sub"><code>${e(r.quoteFile)}</code> · verified as of ${e(r.at.toISOString())} · generated ${e(r.generatedAt.toISOString())} by ${e(r.generator)}</p>
</header>
<section class="verdict ${r.outcome.kind}" id="verdict">
<h2>Verdict</h2>
<p class="big">${e(verdictWord(r.outcome))}</p>
<p>${e(r.outcome.text)}</p>
${r.failure === undefined ? "" : `<p><code>${e(r.failure.code)}</code>: ${e(r.failure.message)}</p>`}
</section>
${r.summary === undefined ? "" : summary(r.summary, r.advisoryIds ?? [])}
${r.appraisal === undefined ? "" : policy(r.appraisal, r.policySource)}
${r.tcb === undefined ? "" : tcb(r.tcb)}
${chain("PCK certificate chain (in the quote)", r.pckChain)}
${r.collateralChain.length === 0 ? "" : chain("TCB Info signing chain (in the collateral)", r.collateralChain)}
<section id="quote">
<h2>Decoded quote</h2>
${r.sections.map((s) => `<h3>${e(s.title)}</h3>\n${fieldTable(s.fields)}`).join("\n")}
</section>
<footer>Keyward verifies DCAP quotes with Intel QVL semantics (docs/dcap.md). This page was written from the evidence and collateral named above; it fetched nothing.</footer>
</main>
</body>
</html>
`;
}

function verdictWord(o: Outcome): string {
  return {
    accepted: "ACCEPTED",
    rejected: "REJECTED",
    verified: "VERIFIED, NOT APPRAISED",
    failed: "VERIFICATION FAILED",
  }[o.kind];
}

function summary(rows: readonly SummaryRow[], advisories: readonly string[]): string {
  const body = rows
    .map((r) => {
      const more = (r.more ?? []).map((m) => `<div class="note">${e(m)}</div>`).join("");
      const links =
        r.label === "TCB status" && advisories.length > 0
          ? `<div class="note">${advisories.map((a) => `<a href="${e(advisoryUrl(a))}">${e(a)}</a>`).join(" · ")}</div>`
          : "";
      const cls = /^[0-9a-f]{16,}$/.test(r.value) ? "mono" : "";
      return `<tr><th>${e(r.label)}</th><td><span class="${cls}">${e(r.value)}</span>${more}${links}</td></tr>`;
    })
    .join("\n");
  return `<section id="summary">\n<h2>Summary</h2>\n<table class="kv">\n${body}\n</table>\n</section>`;
}

function policy(a: Appraisal, source: string | undefined): string {
  const rows = a.results
    .map(
      (r) =>
        `<tr class="${r.passed ? "pass" : "fail"}"><td>${e(r.rule)}</td><td class="v">${e(r.expected)}</td><td class="v">${e(r.actual)}</td><td>${r.passed ? "pass" : "FAIL"}</td></tr>`,
    )
    .join("\n");
  return `<section id="policy">
<h2>Policy <code>${e(a.policyId)}</code>${source === undefined ? "" : ` <span class="sub">(${e(source)})</span>`}: ${a.accepted ? "accepted" : "rejected"}</h2>
<table class="grid"><thead><tr><th>rule</th><th>expected</th><th>actual</th><th>result</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</section>`;
}

function tcb(t: TcbExplanation): string {
  const tdx = t.teeTcbSvn !== undefined;
  const levels = t.levels
    .map(
      (l) =>
        `<tr class="${l.matched ? "matched" : ""}"><td>${e(l.tcbDate)}</td><td>${e(l.tcbStatus)}</td><td class="v">${e(l.sgxComponents.join(" "))}</td><td>${l.pceSvn}</td>${
          tdx ? `<td class="v">${e((l.tdxComponents ?? []).join(" "))}</td>` : ""
        }<td>${e(l.advisoryIds.join(", "))}</td><td>${l.matched ? "<strong>matched</strong>" : l.unmet === "" ? "met, but a higher level matched" : e(l.unmet)}</td></tr>`,
    )
    .join("\n");
  const qe = t.qe.levels
    .map(
      (l) =>
        `<tr class="${l.matched ? "matched" : ""}"><td>${l.isvSvn}</td><td>${e(l.tcbStatus)}</td><td>${l.matched ? "<strong>matched</strong>" : ""}</td></tr>`,
    )
    .join("\n");
  return `<section id="tcb">
<h2>TCB level matched, and why</h2>
<table class="kv">
<tr><th>FMSPC</th><td class="v">${e(t.fmspc)}</td></tr>
<tr><th>platform SGX TCB components</th><td class="v">${e(t.sgxComponents.join(" "))}</td></tr>
<tr><th>platform PCESVN</th><td>${t.pceSvn}</td></tr>
${tdx ? `<tr><th>TEE_TCB_SVN</th><td class="v">${e(t.teeTcbSvn ?? "")}</td></tr>` : ""}
<tr><th>TCB evaluation data number</th><td>${t.tcbEvaluationDataNumber}</td></tr>
${t.module === undefined ? "" : `<tr><th>TDX module</th><td>${e(t.module.id)} SVN ${t.module.isvSvn}: ${e(t.module.tcbStatus)}</td></tr>`}
</table>
<p>${e(t.rule)}</p>
<table class="grid"><thead><tr><th>TCB date</th><th>status</th><th>SGX components</th><th>PCESVN</th>${tdx ? "<th>TDX components</th>" : ""}<th>advisories</th><th>this platform</th></tr></thead>
<tbody>
${levels}
</tbody></table>
<h3>Quoting Enclave: ISVSVN ${t.qe.isvSvn}</h3>
<p>The QE gets the first QE Identity level at or below its ISVSVN.</p>
<table class="grid"><thead><tr><th>ISVSVN</th><th>status</th><th></th></tr></thead>
<tbody>
${qe}
</tbody></table>
</section>`;
}

function chain(title: string, certs: readonly Certificate[]): string {
  const blocks = certs
    .map(
      (c, i) =>
        `<h3>${i === 0 ? "Leaf" : i === certs.length - 1 ? "Root" : "Intermediate"}: ${e(c.subject)}</h3>\n${fieldTable(certificateFields(c))}`,
    )
    .join("\n");
  return `<section class="chain">\n<h2>${e(title)}</h2>\n${blocks}\n</section>`;
}

function fieldTable(fields: readonly Field[]): string {
  const rows = fields
    .map(
      (f) =>
        `<tr><th>${e(f.name)}</th><td><span class="${/^[0-9a-f]{16,}$/.test(f.value) ? "mono" : ""}">${e(f.value)}</span>${f.note === undefined ? "" : `<div class="note">${e(f.note)}</div>`}</td></tr>`,
    )
    .join("\n");
  return `<table class="kv">\n${rows}\n</table>`;
}

const STYLE = `
:root{--fg:#1d2329;--muted:#5b6570;--line:#d9dee3;--ok:#17733a;--okbg:#e8f5ec;--bad:#b3261e;--badbg:#fcebea;--warn:#8a5a00;--warnbg:#fff6e0}
*{box-sizing:border-box}
body{margin:0;background:#f4f6f8;color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 6px}
.sub{color:var(--muted);margin:0;font-size:13px}
code,.v,.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line)}
table.kv th{width:230px;font-weight:600;color:#333}
table.grid thead th{background:#f0f2f4;font-size:13px}
.note{color:var(--muted);font-size:13px}
.verdict{border-radius:8px;padding:6px 18px 10px;margin-top:18px;border:1px solid var(--line)}
.verdict h2{border:0;margin-top:8px}
.verdict .big{font-size:24px;font-weight:700;margin:0}
.verdict.accepted{background:var(--okbg);border-color:var(--ok)}.verdict.accepted .big{color:var(--ok)}
.verdict.rejected,.verdict.failed{background:var(--badbg);border-color:var(--bad)}.verdict.rejected .big,.verdict.failed .big{color:var(--bad)}
.verdict.verified{background:var(--warnbg);border-color:var(--warn)}.verdict.verified .big{color:var(--warn)}
tr.fail td{background:var(--badbg)}tr.fail td:last-child{color:var(--bad);font-weight:700}
tr.pass td:last-child{color:var(--ok)}
tr.matched td{background:var(--okbg)}
a{color:#0b57d0}
footer{margin-top:32px;color:var(--muted);font-size:12px}
`;
