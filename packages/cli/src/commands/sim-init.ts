import { join } from "node:path";
import { toHex } from "@keyward/attest/bytes";
import { parsePemCertificates } from "@keyward/attest/x509";
import { initSimPlatform } from "@keyward/platform/sim";
import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/** `keyward sim init [--data-dir DIR] [--force] [--validity-days N] [--json]` */
export const command: Command = {
  summary: "create the simulated TEE platform (CA, PCK, QE, collateral) under the data directory",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      "data-dir": { type: "string" },
      force: { type: "boolean" },
      "validity-days": { type: "string" },
      json: { type: "boolean" },
    });
    if (positionals.length > 0)
      usageError("usage: keyward sim init [--data-dir DIR] [--force] [--validity-days N]");
    const days = values["validity-days"] === undefined ? 30 : Number(values["validity-days"]);
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      usageError("--validity-days: an integer from 1 to 3650");
    const dir = join(dataDir(values["data-dir"]), "sim");
    const sim = initSimPlatform(dir, { now: new Date(), validityDays: days, force: values.force === true });
    const [root] = parsePemCertificates(sim.rootCertificatePem, 1);
    const out = {
      dir,
      root: join(dir, "root.pem"),
      rootSha256: root === undefined ? "" : toHex(root.fingerprint256),
      collateral: { sgx: join(dir, "collateral-sgx.json"), tdx: join(dir, "collateral-tdx.json") },
      validityDays: days,
      note: "SIMULATED platform: for development only; verifiers accept it only with --trust-sim",
    };
    if (values.json === true) printJson(out);
    else {
      process.stdout.write(
        `simulated platform created in ${dir}\n  root CA: ${out.root}\n  sha256:  ${out.rootSha256}\n` +
          `  collateral valid for ${days} days (keyward sim refresh renews it)\n  ${out.note}\n`,
      );
    }
    return EXIT.ok;
  },
};
