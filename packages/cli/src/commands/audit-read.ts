import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/** `keyward audit read [--from SEQ] [--limit N] [--data-dir DIR | --database-url URL]`: each entry as JSON. */
export const command: Command = {
  summary: "print the service's audit log entries (names only; no secret values)",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      "data-dir": { type: "string" },
      "database-url": { type: "string" },
      "db-schema": { type: "string" },
      from: { type: "string" },
      limit: { type: "string" },
    });
    const from = Number(values.from ?? "1");
    const limit = Number(values.limit ?? "1000");
    if (positionals.length > 0 || !Number.isSafeInteger(from) || !Number.isSafeInteger(limit) || limit < 1)
      usageError("usage: keyward audit read [--from SEQ] [--limit N]");
    const { loadServiceConfig, openStore } = await import("@keyward/server/service");
    const config = loadServiceConfig(dataDir(values["data-dir"]), {
      ...(values["database-url"] === undefined ? {} : { databaseUrl: values["database-url"] }),
      ...(values["db-schema"] === undefined ? {} : { dbSchema: values["db-schema"] }),
    });
    const store = await openStore(config);
    try {
      for (const e of await store.readAudit(from, limit)) printJson(e);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
