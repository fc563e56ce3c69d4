import { EXIT, type ExitCode } from "../output.ts";
import { serviceConfigFrom } from "../service-flags.ts";
import type { serve } from "../specs/misc.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward serve [--simulation] [--data-dir DIR] [--listen HOST:PORT] [--database-url postgres://…]
 *   [--db-schema S] [--policy-dir DIR] [--master-key-file F] [--vault-addr URL] [--ops-listen H:P]
 *   [--admin-listen H:P] [--challenge-listen H:P] [--pccs-url URL] [--attester auto|gramine|configfs-tsm]`
 * — runs until SIGINT/SIGTERM. A bad address or a port in use is a usage error (exit 2: see
 * `asKeywardError`). Without --simulation it runs in hardware mode (Intel's root, and the
 * service's own evidence and sealed master key from its attester). The flags are the server's
 * option table (packages/server/src/ops/config.ts and each feature's options; docs/operations.md);
 * test/service-flags.test.ts keeps the spec in step with it.
 */
export async function run({ values }: Parsed<typeof serve>): Promise<ExitCode> {
  const { runService } = await import("@keyward/server");
  const config = await serviceConfigFrom(values);
  const running = await runService(config);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await running.shutdown();
  return EXIT.ok;
}
