import { ADMIN_FLAGS, openAdminTarget, readAllAudit } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/**
 * `keyward audit verify [--json] [--expect-head HASH] [--admin HOST:PORT | store flags]`: exit 0
 * intact, 1 broken. `--expect-head` also fails when the chain's head is not a hash recorded earlier
 * (a chain cut short at its end still links; only a head kept elsewhere reveals it).
 */
export const command: Command = {
  summary: "verify the service's hash-chained audit log (finds edited, deleted or reordered entries)",
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...ADMIN_FLAGS, "expect-head": { type: "string" } });
    if (positionals.length > 0) usageError("usage: keyward audit verify [--json] [--admin HOST:PORT]");
    const target = await openAdminTarget(values);
    try {
      let verdict = await target.verifyAudit();
      const expected = values["expect-head"];
      if (verdict.ok && expected !== undefined) {
        // The recorded head must still be in the chain (entries may have been appended since).
        const all = await readAllAudit(target);
        if (!all.some((e) => e.hash === expected.toLowerCase()))
          verdict = {
            ...verdict,
            ok: false,
            problem: "the expected head is not in the chain (truncated or replaced)",
          };
      }
      if (values.json === true) printJson(verdict);
      else
        process.stdout.write(
          verdict.ok
            ? `audit chain intact: ${verdict.entries} entries, head ${verdict.head}\n`
            : `audit chain BROKEN${verdict.brokenAt === undefined ? "" : ` at entry ${verdict.brokenAt}`}: ${verdict.problem}\n`,
        );
      return verdict.ok ? EXIT.ok : EXIT.rejected;
    } finally {
      await target.close();
    }
  },
};
