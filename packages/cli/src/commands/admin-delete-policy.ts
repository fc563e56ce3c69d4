import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/** `keyward admin delete-policy ID [--admin HOST:PORT | store flags]` — a stored policy (files stay). */
export const command: Command = {
  summary: "delete a stored policy (policy files are edited on disk instead)",
  async run(args) {
    const { values, positionals } = parseFlags(args, ADMIN_FLAGS);
    const [id] = positionals;
    if (id === undefined || positionals.length !== 1) usageError("usage: keyward admin delete-policy ID");
    const target = await openAdminTarget(values);
    try {
      const { existed } = await target.deletePolicy(id);
      printJson({ id, deleted: existed });
      return existed ? EXIT.ok : EXIT.rejected;
    } finally {
      await target.close();
    }
  },
};
