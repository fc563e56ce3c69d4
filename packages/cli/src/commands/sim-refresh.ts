import { join } from "node:path";
import { refreshSimCollateral } from "@keyward/platform/sim";
import { usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import type { simRefresh } from "../specs/sim.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward sim refresh [--data-dir DIR] [--validity-days N] [--json]` */
export async function run({ values, json }: Parsed<typeof simRefresh>): Promise<ExitCode> {
  const days = validityDays(values["validity-days"]);
  const dir = join(dataDir(values["data-dir"]), "sim");
  const now = new Date();
  refreshSimCollateral(dir, now, days);
  if (json)
    printJson({ dir, refreshedAt: now.toISOString(), ...(days === undefined ? {} : { validityDays: days }) });
  else say(`collateral of ${dir} re-signed`);
  return EXIT.ok;
}

/** `--validity-days`: 1 to 3650, or undefined. @throws ERR_USAGE */
export function validityDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    usageError("--validity-days: an integer from 1 to 3650");
  return days;
}
