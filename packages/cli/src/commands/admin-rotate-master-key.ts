import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { progress } from "../progress.ts";
import { serviceConfigFrom } from "../service-flags.ts";
import type { adminRotateMasterKey } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin rotate-master-key [store flags] [--json]` — re-wraps every secret's data key and
 * every KMS key under a fresh master key in one transaction, then replaces the key file (the old
 * one is kept as master.key.old until the next rotation, so an interrupted rotation can be
 * recovered). Run it with the service stopped (every replica), then start them again: a running
 * replica still holds the old key. Key-file mode only: rotating a master key sealed in the
 * service's enclave is not built.
 */
export async function run({ values, json }: Parsed<typeof adminRotateMasterKey>): Promise<ExitCode> {
  const { loadKeyFile, openStore, rotateMasterKey } = await import("@keyward/server/admin");
  const config = await serviceConfigFrom(values);
  const oldKey = loadKeyFile(config.masterKeyFile); // never created here: there must be one to rotate
  const newKey = new Uint8Array(randomBytes(32));
  const next = `${config.masterKeyFile}.next`;
  const shown = progress("rotating the master key");
  try {
    // The new key reaches the disk before any row is re-wrapped under it.
    shown.step("writing the new key");
    rmSync(next, { force: true });
    writeFileSync(next, newKey, { mode: 0o600, flag: "wx" });
    shown.step("opening the store");
    const store = await openStore(config);
    try {
      shown.step("re-wrapping every data key in one transaction");
      const counts = await rotateMasterKey(store, oldKey, newKey, "admin:local-cli");
      shown.step("replacing the key file");
      rmSync(`${config.masterKeyFile}.old`, { force: true });
      renameSync(config.masterKeyFile, `${config.masterKeyFile}.old`);
      renameSync(next, config.masterKeyFile);
      shown.done();
      if (json) printJson({ rotated: true, ...counts });
      else
        say(
          `master key rotated: ${Object.entries(counts)
            .map(([k, n]) => `${n} ${k}`)
            .join(", ")} re-wrapped; the old key is kept as ${config.masterKeyFile}.old`,
        );
      return EXIT.ok;
    } finally {
      await store.close();
    }
  } finally {
    shown.done();
    oldKey.fill(0);
    newKey.fill(0);
  }
}
