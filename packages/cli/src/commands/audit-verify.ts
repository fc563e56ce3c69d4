import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/** `keyward audit verify [--data-dir DIR] [--database-url URL] [--db-schema S]`: exit 0 intact, 1 broken. */
export const command: Command = {
  summary: "verify the service's hash-chained audit log (finds edited, deleted or reordered entries)",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      "data-dir": { type: "string" },
      "database-url": { type: "string" },
      "db-schema": { type: "string" },
      json: { type: "boolean" },
    });
    if (positionals.length > 0)
      usageError("usage: keyward audit verify [--data-dir DIR] [--database-url URL]");
    const { loadServiceConfig, openStore, verifyChain } = await import("@keyward/server/service");
    const config = loadServiceConfig(dataDir(values["data-dir"]), {
      ...(values["database-url"] === undefined ? {} : { databaseUrl: values["database-url"] }),
      ...(values["db-schema"] === undefined ? {} : { dbSchema: values["db-schema"] }),
    });
    const store = await openStore(config);
    try {
      const verdict = verifyChain(await store.readAudit());
      if (values.json === true) printJson(verdict);
      else
        process.stdout.write(
          verdict.ok
            ? `audit chain intact: ${verdict.entries} entries, head ${verdict.head}\n`
            : `audit chain BROKEN at entry ${verdict.brokenAt}: ${verdict.problem}\n`,
        );
      return verdict.ok ? EXIT.ok : EXIT.rejected;
    } finally {
      await store.close();
    }
  },
};
