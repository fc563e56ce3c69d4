import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJsonLine } from "../output.ts";

/** `keyward admin list-policies [--admin HOST:PORT | store flags]` — in force, in evaluation order. */
export const command: Command = {
  summary: "list the policies in force (files, then stored), in evaluation order",
  async run(args) {
    const { values, positionals } = parseFlags(args, ADMIN_FLAGS);
    if (positionals.length > 0) usageError("usage: keyward admin list-policies");
    const target = await openAdminTarget(values);
    try {
      for (const p of await target.listPolicies())
        printJsonLine({ id: p.id, source: p.source, version: p.version, policy: JSON.parse(p.document) });
      return EXIT.ok;
    } finally {
      await target.close();
    }
  },
};
