import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT } from "../output.ts";

/**
 * `keyward serve [--data-dir DIR] [--listen HOST:PORT] [--database-url postgres://…] [--db-schema S]
 *   [--policy-dir DIR] [--master-key-file F] --simulation` — runs until SIGINT/SIGTERM.
 * Environment equivalents: see packages/server/src/config.ts and docs/operations.md.
 */
export const command: Command = {
  summary: "run the secret-provisioning service (mutual RA-TLS gRPC) until stopped",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      "data-dir": { type: "string" },
      listen: { type: "string" },
      "database-url": { type: "string" },
      "db-schema": { type: "string" },
      "policy-dir": { type: "string" },
      "master-key-file": { type: "string" },
      simulation: { type: "boolean" },
      "vault-addr": { type: "string" },
      "ops-listen": { type: "string" },
    });
    if (positionals.length > 0)
      usageError("usage: keyward serve [--listen HOST:PORT] [--database-url URL] --simulation");
    const { loadServiceConfig, runService } = await import("@keyward/server/service");
    const config = loadServiceConfig(dataDir(values["data-dir"]), {
      ...(values.listen === undefined ? {} : { listen: values.listen }),
      ...(values["database-url"] === undefined ? {} : { databaseUrl: values["database-url"] }),
      ...(values["db-schema"] === undefined ? {} : { dbSchema: values["db-schema"] }),
      ...(values["policy-dir"] === undefined ? {} : { policyDir: values["policy-dir"] }),
      ...(values["master-key-file"] === undefined ? {} : { masterKeyFile: values["master-key-file"] }),
      ...(values.simulation === true ? { simulation: true } : {}),
      ...(values["vault-addr"] === undefined ? {} : { vaultAddr: values["vault-addr"] }),
      ...(values["ops-listen"] === undefined ? {} : { opsListen: values["ops-listen"] }),
    });
    const running = await runService(config);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    await running.shutdown();
    return EXIT.ok;
  },
};
