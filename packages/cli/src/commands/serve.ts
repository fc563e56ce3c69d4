import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT } from "../output.ts";
import { SERVE_FLAGS, serviceConfigFrom } from "../service-flags.ts";

/**
 * `keyward serve [--simulation] [--data-dir DIR] [--listen HOST:PORT] [--database-url postgres://…]
 *   [--db-schema S] [--policy-dir DIR] [--master-key-file F] [--vault-addr URL] [--ops-listen H:P]
 *   [--admin-listen H:P] [--challenge-listen H:P] [--pccs-url URL] [--attester auto|gramine|configfs-tsm]`
 * — runs until SIGINT/SIGTERM. Without --simulation it runs in hardware mode (Intel's root, and the
 * service's own evidence and sealed master key from its attester). Environment equivalents:
 * packages/server/src/config.ts and docs/operations.md.
 */
export const command: Command = {
  summary: "run the secret-provisioning service (mutual RA-TLS gRPC) until stopped",
  async run(args) {
    const { values, positionals } = parseFlags(args, SERVE_FLAGS);
    if (positionals.length > 0) usageError("usage: keyward serve [--simulation] [--listen HOST:PORT] [...]");
    const { runService } = await import("@keyward/server/service");
    const running = await runService(await serviceConfigFrom(values));
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    await running.shutdown();
    return EXIT.ok;
  },
};
