import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/** `keyward admin delete-secret NAME [--admin HOST:PORT | store flags]` — every version; audited. */
export const command: Command = {
  summary: "delete a secret (every version); later releases of it fail",
  async run(args) {
    const { values, positionals } = parseFlags(args, ADMIN_FLAGS);
    const [name] = positionals;
    if (name === undefined || positionals.length !== 1) usageError("usage: keyward admin delete-secret NAME");
    const target = await openAdminTarget(values);
    try {
      const { existed } = await target.deleteSecret(name);
      printJson({ name, deleted: existed });
      return existed ? EXIT.ok : EXIT.rejected;
    } finally {
      await target.close();
    }
  },
};
