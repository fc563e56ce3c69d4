import { parseDcapQuote } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { parseSigstruct, verifySigstruct } from "@keyward/platform/sigstruct";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";
import { readBytes } from "../read-input.ts";

/** `keyward enclave sigstruct FILE.sig [--quote QUOTE] [--json]` */
export const command: Command = {
  summary: "read and verify an SGX SIGSTRUCT (.sig); with --quote, compare it with a quote's enclave",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      quote: { type: "string" },
      json: { type: "boolean" },
    });
    const [path, ...extra] = positionals;
    if (path === undefined || extra.length > 0)
      usageError("usage: keyward enclave sigstruct FILE.sig [--quote QUOTE] [--json]");
    const s = parseSigstruct(readBytes(path, "SIGSTRUCT"));
    verifySigstruct(s);
    const flags = Buffer.from(s.attributes.subarray(0, 8)).readBigUInt64LE();
    const out: Record<string, unknown> = {
      verified: true,
      mrenclave: s.mrEnclave,
      mrsigner: s.mrSigner,
      isvProdId: s.isvProdId,
      isvSvn: s.isvSvn,
      attributes: s.attributes,
      attributeMask: s.attributeMask,
      debug: s.debug,
      flags: `0x${flags.toString(16)}`,
      miscSelect: s.miscSelect,
      miscMask: s.miscMask,
      vendor: s.vendor === 0x8086 ? "Intel" : "other",
      date: s.date.iso,
      dateEncoding: s.date.encoding,
    };
    let mismatch: string[] = [];
    if (values.quote !== undefined) {
      const q = parseDcapQuote(readBytes(values.quote, "quote"));
      if (q.body.kind !== "sgx")
        throw new KeywardError("ERR_MEASUREMENT_MISMATCH", "the quote is of a TD, not an SGX enclave");
      const b = q.body.report;
      mismatch = [
        Buffer.compare(b.mrEnclave, s.mrEnclave) !== 0 ? "mrenclave" : "",
        Buffer.compare(b.mrSigner, s.mrSigner) !== 0 ? "mrsigner" : "",
        b.isvProdId !== s.isvProdId ? "isvProdId" : "",
        b.isvSvn !== s.isvSvn ? "isvSvn" : "",
      ].filter((m) => m !== "");
      out.quote = {
        matches: mismatch.length === 0,
        mismatched: mismatch,
        mrenclave: b.mrEnclave,
        mrsigner: b.mrSigner,
      };
    }
    if (values.json === true) printJson(out);
    else {
      process.stdout.write(
        `SIGSTRUCT verified (${out.vendor}, ${s.date.iso}${s.date.encoding === "legacy" ? ", legacy date encoding" : ""})\n` +
          `  MRENCLAVE ${Buffer.from(s.mrEnclave).toString("hex")}\n  MRSIGNER  ${Buffer.from(s.mrSigner).toString("hex")}\n` +
          `  ISVPRODID ${s.isvProdId}  ISVSVN ${s.isvSvn}  debug ${s.debug}\n` +
          (values.quote === undefined
            ? ""
            : mismatch.length === 0
              ? "  the quote's enclave matches\n"
              : `  the quote differs in ${mismatch.join(", ")}\n`),
      );
    }
    return mismatch.length === 0 ? EXIT.ok : EXIT.rejected;
  },
};
