import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJsonLine } from "../output.ts";

/** `keyward admin list-secrets [--admin HOST:PORT | store flags]` — names and newest versions, never values. */
export const command: Command = {
  summary: "list stored secrets (names and versions only)",
  async run(args) {
    const { values, positionals } = parseFlags(args, ADMIN_FLAGS);
    if (positionals.length > 0) usageError("usage: keyward admin list-secrets");
    const target = await openAdminTarget(values);
    try {
      for (const s of await target.listSecrets()) printJsonLine(s);
      return EXIT.ok;
    } finally {
      await target.close();
    }
  },
};
