import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/** `keyward admin add-client NAME [--data-dir DIR]` — issues another operator's client certificate. */
export const command: Command = {
  summary: "issue another operator's Admin client certificate with the admin CA",
  async run(args) {
    const { values, positionals } = parseFlags(args, { "data-dir": { type: "string" } });
    const [name] = positionals;
    if (name === undefined || positionals.length !== 1) usageError("usage: keyward admin add-client NAME");
    const { addAdminClient } = await import("@keyward/server/service");
    const c = addAdminClient(dataDir(values["data-dir"]), name);
    printJson({ operator: c.name, files: [`clients/${c.name}.pem`, `clients/${c.name}.key`] });
    return EXIT.ok;
  },
};
