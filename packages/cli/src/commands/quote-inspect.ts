import { parseDcapQuote } from "@keyward/attest/dcap";
import { parsePckExtensions } from "@keyward/attest/x509";
import { readQuote } from "../inputs.ts";
import { EXIT, type ExitCode, printJson } from "../output.ts";
import { certificateChain, quoteSections, sectionsText } from "../report/quote-fields.ts";
import type { quoteInspect } from "../specs/quote.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward quote inspect QUOTE [--json]`: decodes a quote without verifying it. */
export async function run({ positionals, json }: Parsed<typeof quoteInspect>): Promise<ExitCode> {
  const quote = parseDcapQuote(readQuote(positionals[0] as string));
  if (!json) {
    process.stdout.write(
      `${sectionsText(quoteSections(quote))}\n(decoded only: nothing was verified; keyward quote verify checks it)\n`,
    );
    return EXIT.ok;
  }
  const sig = quote.signatureData;
  const chain = certificateChain(quote);
  const leaf = chain[0];
  printJson({
    header: { ...quote.header, teeType: quote.header.teeType === 0 ? "sgx" : "tdx" },
    ...(quote.bodyType === undefined ? {} : { bodyType: quote.bodyType }),
    body: { kind: quote.body.kind, ...quote.body.report },
    signedLength: quote.signed.byteLength,
    padding: quote.padding,
    signature: {
      attestationKey: sig.attestationKey,
      certificationDataType: sig.certificationDataType,
      qeAuthDataLength: sig.qeAuthData.byteLength,
    },
    qeReport: sig.qeReport,
    pck:
      leaf === undefined
        ? undefined
        : {
            subject: leaf.subject,
            issuer: leaf.issuer,
            serial: leaf.serialNumber,
            notAfter: leaf.notAfter,
            ...parsePckExtensions(leaf),
          },
    chain: chain.map((c) => c.subject),
  });
  return EXIT.ok;
}
