import { readFileSync } from "node:fs";
import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/**
 * `keyward admin put-secret NAME --value-file F [--data-dir DIR] [--database-url URL]` — stores the
 * next version of NAME directly in the store (local administration; the mutual-TLS Admin service is
 * not built yet). The value is read from a file so that it never appears in the process list.
 */
export const command: Command = {
  summary: "store a new version of a secret (value read from a file; envelope-encrypted)",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      "data-dir": { type: "string" },
      "database-url": { type: "string" },
      "db-schema": { type: "string" },
      "master-key-file": { type: "string" },
      "value-file": { type: "string" },
    });
    const [name] = positionals;
    if (name === undefined || positionals.length !== 1 || values["value-file"] === undefined)
      usageError("usage: keyward admin put-secret NAME --value-file FILE");
    const { checkSecretName, loadOrCreateKeyFile, loadServiceConfig, openStore, sealSecret } = await import(
      "@keyward/server/service"
    );
    checkSecretName(name);
    const config = loadServiceConfig(dataDir(values["data-dir"]), {
      ...(values["database-url"] === undefined ? {} : { databaseUrl: values["database-url"] }),
      ...(values["db-schema"] === undefined ? {} : { dbSchema: values["db-schema"] }),
      ...(values["master-key-file"] === undefined ? {} : { masterKeyFile: values["master-key-file"] }),
    });
    const value = new Uint8Array(readFileSync(values["value-file"]));
    const masterKey = loadOrCreateKeyFile(config.masterKeyFile);
    const store = await openStore(config);
    try {
      const s = await store.putSecret(name, (v) => sealSecret(masterKey, name, v, value), {
        action: "secret.put",
        outcome: "ok",
        subject: "admin:local-cli",
      });
      printJson({ name: s.name, version: s.version });
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
