import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { runInEnclave } from "../signer-enclave.ts";
import { signerDecrypt } from "../specs/signer.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward signer decrypt --key DIR --in FILE.jwe --out FILE [--manifest FILE]` */
export async function run({ values, json }: Parsed<typeof signerDecrypt>): Promise<ExitCode> {
  const out = required(values.out, "out", signerDecrypt);
  const r = await runInEnclave(
    {
      op: "decrypt",
      key: required(values.key, "key", signerDecrypt),
      in: required(values.in, "in", signerDecrypt),
      out,
    },
    values.manifest,
    values["data-dir"],
  );
  if (json) printJson(r);
  else say(`decrypted in the enclave with key ${String(r.keyId)}: ${out}`);
  return EXIT.ok;
}
