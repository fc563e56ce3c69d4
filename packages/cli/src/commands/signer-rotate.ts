import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { runInEnclave } from "../signer-enclave.ts";
import { signerRotate } from "../specs/signer.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward signer rotate --key DIR --out NEWDIR [--manifest FILE] [--seal POLICY]` */
export async function run({ values, json }: Parsed<typeof signerRotate>): Promise<ExitCode> {
  const out = required(values.out, "out", signerRotate);
  const r = await runInEnclave(
    {
      op: "rotate",
      key: required(values.key, "key", signerRotate),
      out,
      ...(values.seal === undefined ? {} : { seal: values.seal }),
    },
    values.manifest,
    values["data-dir"],
  );
  if (json) printJson(r);
  else say(`key ${String(r.keyId)} (generation ${String(r.generation)}) in ${out}`);
  return EXIT.ok;
}
