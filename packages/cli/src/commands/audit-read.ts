import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJsonLine } from "../output.ts";

/** `keyward audit read [--from SEQ] [--limit N] [--admin HOST:PORT | store flags]`: each entry as JSON. */
export const command: Command = {
  summary: "print the service's audit log entries (names only; no secret values)",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...ADMIN_FLAGS,
      from: { type: "string" },
      limit: { type: "string" },
    });
    const from = Number(values.from ?? "1");
    const limit = Number(values.limit ?? "1000");
    if (positionals.length > 0 || !Number.isSafeInteger(from) || !Number.isSafeInteger(limit) || limit < 1)
      usageError("usage: keyward audit read [--from SEQ] [--limit N]");
    const target = await openAdminTarget(values);
    try {
      // Pages of at most 10,000 (the Admin listener's bound) until `limit` entries are printed.
      let next = from;
      let left = limit;
      while (left > 0) {
        const page = await target.readAudit(next, Math.min(left, 10_000));
        for (const e of page) printJsonLine(e);
        if (page.length === 0) break;
        left -= page.length;
        next = (page[page.length - 1]?.seq ?? next) + 1;
      }
      return EXIT.ok;
    } finally {
      await target.close();
    }
  },
};
