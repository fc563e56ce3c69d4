import { toHex } from "@keyward/attest/bytes";
import { parseDcapQuote } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, errorJson, printJson } from "../output.ts";
import { readBytes } from "../read-input.ts";

/** `keyward enclave verify-measurement --manifest app.toml --quote QUOTE [--json]` */
export const command: Command = {
  summary: "rebuild the measurement from source and compare it with a quote's enclave",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      manifest: { type: "string" },
      quote: { type: "string" },
      json: { type: "boolean" },
    });
    if (values.manifest === undefined || values.quote === undefined || positionals.length > 0) {
      usageError("usage: keyward enclave verify-measurement --manifest app.toml --quote QUOTE [--json]");
    }
    const m = measure(loadManifest(values.manifest));
    const q = parseDcapQuote(readBytes(values.quote, "quote"));
    if (q.body.kind !== "sgx")
      throw new KeywardError("ERR_MEASUREMENT_MISMATCH", "the quote is of a TD, not an SGX enclave");
    const b = q.body.report;
    const fields = [
      ["mrenclave", toHex(m.mrEnclave), toHex(b.mrEnclave)],
      ["mrsigner", toHex(m.mrSigner), toHex(b.mrSigner)],
      ["isvProdId", String(m.isvProdId), String(b.isvProdId)],
      ["isvSvn", String(m.isvSvn), String(b.isvSvn)],
      ["debug", String(m.debug), String(((b.attributes[0] ?? 0) & 2) !== 0)],
    ] as const;
    const mismatched = fields
      .filter(([, a, c]) => a !== c)
      .map(([name, expected, actual]) => ({ field: name, expected, actual }));
    const out = {
      matches: mismatched.length === 0,
      mrenclave: toHex(m.mrEnclave),
      mrsigner: toHex(m.mrSigner),
      mismatched,
    };
    if (mismatched.length > 0) {
      const e = new KeywardError(
        "ERR_MEASUREMENT_MISMATCH",
        `the quote's enclave differs in ${mismatched.map((x) => x.field).join(", ")}`,
      );
      if (values.json === true) printJson({ ...(errorJson(e) as object), ...out });
      else process.stderr.write(`keyward: ${e.code}: ${e.message}\n`);
      return EXIT.rejected;
    }
    if (values.json === true) printJson(out);
    else
      process.stdout.write(`the quote's enclave was built from this source (MRENCLAVE ${out.mrenclave})\n`);
    return EXIT.ok;
  },
};
