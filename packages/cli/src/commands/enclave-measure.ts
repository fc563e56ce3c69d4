import { loadManifest, measure } from "@keyward/platform/launcher";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/** `keyward enclave measure --manifest app.toml [--json]` */
export const command: Command = {
  summary: "print the simulated MRENCLAVE and MRSIGNER of a manifest without running it",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      manifest: { type: "string" },
      json: { type: "boolean" },
      canonical: { type: "boolean" },
    });
    if (values.manifest === undefined || positionals.length > 0)
      usageError("usage: keyward enclave measure --manifest app.toml [--json]");
    const m = measure(loadManifest(values.manifest));
    const out = {
      mrenclave: m.mrEnclave,
      mrsigner: m.mrSigner,
      isvProdId: m.isvProdId,
      isvSvn: m.isvSvn,
      debug: m.debug,
      files: Object.fromEntries([...m.files].map(([f, h]) => [f, Buffer.from(h).toString("hex")])),
    };
    if (values.canonical === true) process.stdout.write(m.canonical);
    else if (values.json === true) printJson(out);
    else
      process.stdout.write(
        `MRENCLAVE ${Buffer.from(m.mrEnclave).toString("hex")}\nMRSIGNER  ${Buffer.from(m.mrSigner).toString("hex")}\nISVPRODID ${m.isvProdId}  ISVSVN ${m.isvSvn}  debug ${m.debug}\n`,
      );
    return EXIT.ok;
  },
};
