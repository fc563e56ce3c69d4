import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

const ALGORITHMS = ["AES-256-GCM", "P-256", "Ed25519", "RSA-3072"];

/**
 * `keyward admin create-key KEY-ID --algorithm AES-256-GCM|P-256|Ed25519|RSA-3072 [--admin HOST:PORT]`
 * — creates a KMS key, or rotates it (a new version, old versions kept) when it exists.
 */
export const command: Command = {
  summary: "create (or rotate) a KMS key inside the service's store; the key never leaves it",
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...ADMIN_FLAGS, algorithm: { type: "string" } });
    const [keyId] = positionals;
    const algorithm = values.algorithm;
    if (
      keyId === undefined ||
      positionals.length !== 1 ||
      algorithm === undefined ||
      !ALGORITHMS.includes(algorithm)
    )
      usageError(`usage: keyward admin create-key KEY-ID --algorithm ${ALGORITHMS.join("|")}`);
    const target = await openAdminTarget(values);
    try {
      const { version } = await target.createKey(keyId, algorithm);
      printJson({ keyId, version, algorithm });
      return EXIT.ok;
    } finally {
      await target.close();
    }
  },
};
