import { parseDcapQuote } from "@keyward/attest/dcap";
import { parsePckExtensions, parsePemCertificates } from "@keyward/attest/x509";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, jsonReplacer, printJson } from "../output.ts";
import { readBytes } from "../read-input.ts";

/** `keyward quote inspect QUOTE [--json]`: decodes a quote without verifying it. */
export const command: Command = {
  summary: "decode a DCAP quote (header, body, QE report, PCK fields); verifies nothing",
  async run(args) {
    const { values, positionals } = parseFlags(args, { json: { type: "boolean" } });
    const [path, ...extra] = positionals;
    if (path === undefined || extra.length > 0) usageError("usage: keyward quote inspect QUOTE [--json]");
    const quote = parseDcapQuote(readBytes(path, "quote"));
    const sig = quote.signatureData;
    const chain = parsePemCertificates(sig.pckChainPem, 4);
    const leaf = chain[0];
    const out = {
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
    };
    if (values.json === true) printJson(out);
    else process.stdout.write(`${JSON.stringify(out, jsonReplacer, 2)}\n`);
    return EXIT.ok;
  },
};
