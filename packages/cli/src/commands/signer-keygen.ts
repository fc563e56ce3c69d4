import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { runInEnclave } from "../signer-enclave.ts";
import { signerKeygen } from "../specs/signer.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward signer keygen --out DIR [--manifest FILE] [--purpose NAME] [--seal POLICY]` */
export async function run({ values, json }: Parsed<typeof signerKeygen>): Promise<ExitCode> {
  const out = required(values.out, "out", signerKeygen);
  const r = await runInEnclave(
    {
      op: "keygen",
      out,
      ...(values.purpose === undefined ? {} : { purpose: values.purpose }),
      ...(values.seal === undefined ? {} : { seal: values.seal }),
      ...(values.algorithm === undefined ? {} : { algorithm: values.algorithm }),
      ...(values.evidence === undefined ? {} : { evidence: values.evidence }),
    },
    values.manifest,
    values["data-dir"],
  );
  if (json) printJson(r);
  else
    say(
      `key ${String(r.keyId)} (${String(r.algorithm)}, ${String(r.purpose)}, generation ${String(r.generation)}, sealed to ${String(r.sealPolicy)}) in ${out}`,
    );
  return EXIT.ok;
}
