import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";
import { STORE_FLAGS, serviceConfigFrom } from "../service-flags.ts";

/**
 * `keyward admin rotate-master-key [store flags]` — re-wraps every secret's data key and every KMS
 * key under a fresh master key in one transaction, then replaces the key file (the old one is kept
 * as master.key.old until the next rotation, so an interrupted rotation can be recovered). Run it
 * with the service stopped (every replica), then start them again: a running replica still holds
 * the old key. Key-file mode only: rotating a master key sealed in the service's enclave is not built.
 */
export const command: Command = {
  summary: "re-wrap every data key under a new master key (key-file mode; service stopped)",
  async run(args) {
    const { values, positionals } = parseFlags(args, STORE_FLAGS);
    if (positionals.length > 0) usageError("usage: keyward admin rotate-master-key [--data-dir DIR]");
    const { loadKeyFile, openStore, rotateMasterKey } = await import("@keyward/server/service");
    const config = await serviceConfigFrom(values);
    const oldKey = loadKeyFile(config.masterKeyFile); // never created here: there must be one to rotate
    const newKey = new Uint8Array(randomBytes(32));
    const next = `${config.masterKeyFile}.next`;
    // The new key reaches the disk before any row is re-wrapped under it.
    rmSync(next, { force: true });
    writeFileSync(next, newKey, { mode: 0o600, flag: "wx" });
    const store = await openStore(config);
    try {
      const counts = await rotateMasterKey(store, oldKey, newKey, "admin:local-cli");
      rmSync(`${config.masterKeyFile}.old`, { force: true });
      renameSync(config.masterKeyFile, `${config.masterKeyFile}.old`);
      renameSync(next, config.masterKeyFile);
      printJson({ rotated: true, ...counts });
      return EXIT.ok;
    } finally {
      oldKey.fill(0);
      newKey.fill(0);
      await store.close();
    }
  },
};
