import { join } from "node:path";
import { refreshSimCollateral } from "@keyward/platform/sim";
import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT } from "../output.ts";

/** `keyward sim refresh [--data-dir DIR] [--validity-days N]` */
export const command: Command = {
  summary: "re-sign the simulated platform's collateral and CRLs with fresh dates",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      "data-dir": { type: "string" },
      "validity-days": { type: "string" },
    });
    if (positionals.length > 0) usageError("usage: keyward sim refresh [--data-dir DIR] [--validity-days N]");
    const days = values["validity-days"] === undefined ? undefined : Number(values["validity-days"]);
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650))
      usageError("--validity-days: 1 to 3650");
    const dir = join(dataDir(values["data-dir"]), "sim");
    refreshSimCollateral(dir, new Date(), days);
    process.stdout.write(`collateral of ${dir} re-signed\n`);
    return EXIT.ok;
  },
};
