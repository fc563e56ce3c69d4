import { toHex } from "@keyward/attest/bytes";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { enclaveMeasure } from "../specs/enclave.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward enclave measure --manifest app.toml [--canonical] [--json]` */
export async function run({ values, json }: Parsed<typeof enclaveMeasure>): Promise<ExitCode> {
  const m = measure(loadManifest(required(values.manifest, "manifest", enclaveMeasure)));
  if (values.canonical === true) {
    process.stdout.write(m.canonical);
    return EXIT.ok;
  }
  const out = {
    mrEnclave: m.mrEnclave,
    mrSigner: m.mrSigner,
    isvProdId: m.isvProdId,
    isvSvn: m.isvSvn,
    debug: m.debug,
    files: Object.fromEntries([...m.files].map(([f, h]) => [f, toHex(h)])),
  };
  if (json) printJson(out);
  else
    say(
      `MRENCLAVE ${toHex(m.mrEnclave)}\nMRSIGNER  ${toHex(m.mrSigner)}\nISVPRODID ${m.isvProdId}  ISVSVN ${m.isvSvn}  debug ${m.debug}`,
    );
  return EXIT.ok;
}
