import { toHex } from "@keyward/attest/bytes";
import { parseDcapQuote } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { readFileBounded } from "@keyward/platform/io";
import { parseSigstruct, verifySigstruct } from "@keyward/platform/sigstruct";
import { EXIT, type ExitCode, printJson, reportRejection, say } from "../output.ts";
import type { enclaveSigstruct } from "../specs/enclave.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward enclave sigstruct FILE.sig [--quote QUOTE] [--json]` */
export async function run({ values, positionals, json }: Parsed<typeof enclaveSigstruct>): Promise<ExitCode> {
  const s = parseSigstruct(
    readFileBounded(positionals[0] as string, { kind: "evidence", what: "SIGSTRUCT" }),
  );
  verifySigstruct(s);
  const flags = Buffer.from(s.attributes.subarray(0, 8)).readBigUInt64LE();
  const out: Record<string, unknown> = {
    verified: true,
    mrEnclave: s.mrEnclave,
    mrSigner: s.mrSigner,
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
    const q = parseDcapQuote(readFileBounded(values.quote, { kind: "evidence", what: "quote" }));
    if (q.body.kind !== "sgx")
      throw new KeywardError("ERR_MEASUREMENT_MISMATCH", "the quote is of a TD, not an SGX enclave");
    const b = q.body.report;
    mismatch = [
      Buffer.compare(b.mrEnclave, s.mrEnclave) !== 0 ? "mrEnclave" : "",
      Buffer.compare(b.mrSigner, s.mrSigner) !== 0 ? "mrSigner" : "",
      b.isvProdId !== s.isvProdId ? "isvProdId" : "",
      b.isvSvn !== s.isvSvn ? "isvSvn" : "",
    ].filter((m) => m !== "");
    out.quote = {
      matches: mismatch.length === 0,
      mismatched: mismatch,
      mrEnclave: b.mrEnclave,
      mrSigner: b.mrSigner,
    };
  }
  if (!json || mismatch.length === 0) {
    if (json) printJson(out);
    else
      say(
        `SIGSTRUCT verified (${out.vendor}, ${s.date.iso}${s.date.encoding === "legacy" ? ", legacy date encoding" : ""})\n` +
          `  MRENCLAVE ${toHex(s.mrEnclave)}\n  MRSIGNER  ${toHex(s.mrSigner)}\n` +
          `  ISVPRODID ${s.isvProdId}  ISVSVN ${s.isvSvn}  debug ${s.debug}` +
          (values.quote === undefined ? "" : mismatch.length === 0 ? "\n  the quote's enclave matches" : ""),
      );
  }
  if (mismatch.length > 0)
    return reportRejection(
      new KeywardError("ERR_MEASUREMENT_MISMATCH", `the quote's enclave differs in ${mismatch.join(", ")}`),
      json,
      out,
    );
  return EXIT.ok;
}
