import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/**
 * `keyward admin create-key KEY-ID --algorithm AES-256-GCM|P-256|Ed25519|RSA-3072` — creates a KMS
 * key, or rotates it (a new version, old versions kept) when it exists. Local administration.
 */
export const command: Command = {
  summary: "create (or rotate) a KMS key inside the service's store; the key never leaves it",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      "data-dir": { type: "string" },
      "database-url": { type: "string" },
      "db-schema": { type: "string" },
      "master-key-file": { type: "string" },
      algorithm: { type: "string" },
    });
    const [keyId] = positionals;
    const { createOrRotateKey, KEY_ALGORITHMS, loadOrCreateKeyFile, loadServiceConfig, openStore } =
      await import("@keyward/server/service");
    const algorithm = KEY_ALGORITHMS.find((a) => a === values.algorithm);
    if (keyId === undefined || positionals.length !== 1 || algorithm === undefined)
      usageError(`usage: keyward admin create-key KEY-ID --algorithm ${KEY_ALGORITHMS.join("|")}`);
    const config = loadServiceConfig(dataDir(values["data-dir"]), {
      ...(values["database-url"] === undefined ? {} : { databaseUrl: values["database-url"] }),
      ...(values["db-schema"] === undefined ? {} : { dbSchema: values["db-schema"] }),
      ...(values["master-key-file"] === undefined ? {} : { masterKeyFile: values["master-key-file"] }),
    });
    const masterKey = loadOrCreateKeyFile(config.masterKeyFile);
    const store = await openStore(config);
    try {
      const k = await createOrRotateKey(store, masterKey, keyId, algorithm, "admin:local-cli");
      printJson({ keyId: k.keyId, version: k.version, algorithm: k.algorithm });
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
