import type { SignatureFormat } from "@keyward/attest/signer";
import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { runInEnclave } from "../signer-enclave.ts";
import { signerSign } from "../specs/signer.ts";
import type { Parsed } from "../specs/types.ts";

const EXTENSION: Readonly<Record<SignatureFormat, string>> = { cose: ".cose", der: ".sig", raw: ".rsig" };

/** `keyward signer sign --key DIR --in FILE [--format cose|der|raw] [--out FILE] [--manifest FILE]` */
export async function run({ values, json }: Parsed<typeof signerSign>): Promise<ExitCode> {
  const input = required(values.in, "in", signerSign);
  const format = (values.format ?? "cose") as SignatureFormat;
  const out = values.out ?? `${input}${EXTENSION[format]}`;
  const r = await runInEnclave(
    { op: "sign", key: required(values.key, "key", signerSign), in: input, out, format },
    values.manifest,
    values["data-dir"],
  );
  if (json) printJson(r);
  else say(`${format} signature by key ${String(r.keyId)}: ${out}`);
  return EXIT.ok;
}
