import { toHex } from "@keyward/attest/bytes";
import { parseDcapQuote } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { readFileBounded } from "@keyward/platform/io";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, reportRejection, say } from "../output.ts";
import { enclaveVerifyMeasurement } from "../specs/enclave.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward enclave verify-measurement --manifest app.toml --quote QUOTE [--json]` */
export async function run({ values, json }: Parsed<typeof enclaveVerifyMeasurement>): Promise<ExitCode> {
  const manifest = loadManifest(required(values.manifest, "manifest", enclaveVerifyMeasurement));
  const quotePath = required(values.quote, "quote", enclaveVerifyMeasurement);
  const m = measure(manifest);
  const q = parseDcapQuote(readFileBounded(quotePath, { kind: "evidence", what: "quote" }));
  if (q.body.kind !== "sgx")
    throw new KeywardError("ERR_MEASUREMENT_MISMATCH", "the quote is of a TD, not an SGX enclave");
  const b = q.body.report;
  const fields = [
    ["mrEnclave", toHex(m.mrEnclave), toHex(b.mrEnclave)],
    ["mrSigner", toHex(m.mrSigner), toHex(b.mrSigner)],
    ["isvProdId", String(m.isvProdId), String(b.isvProdId)],
    ["isvSvn", String(m.isvSvn), String(b.isvSvn)],
    ["debug", String(m.debug), String(((b.attributes[0] ?? 0) & 2) !== 0)],
  ] as const;
  const mismatched = fields
    .filter(([, a, c]) => a !== c)
    .map(([name, expected, actual]) => ({ field: name, expected, actual }));
  const out = {
    matches: mismatched.length === 0,
    mrEnclave: toHex(m.mrEnclave),
    mrSigner: toHex(m.mrSigner),
    mismatched,
  };
  if (mismatched.length > 0) {
    const e = new KeywardError(
      "ERR_MEASUREMENT_MISMATCH",
      `the quote's enclave differs in ${mismatched.map((x) => x.field).join(", ")}`,
    );
    if (!json) for (const x of mismatched) say(`${x.field}: built ${x.expected}, quoted ${x.actual}`);
    return reportRejection(e, json, out);
  }
  if (json) printJson(out);
  else say(`the quote's enclave was built from this source (MRENCLAVE ${out.mrEnclave})`);
  return EXIT.ok;
}
