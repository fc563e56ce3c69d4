import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/**
 * `keyward admin init [--data-dir DIR] [--host NAME|IP]... [--name OPERATOR]` — creates the Admin
 * listener's mutual-TLS credentials under DATA_DIR/admin/: a private admin CA, the listener's
 * certificate (for localhost and every --host) and the first operator's client certificate.
 * Private keys are written 0600 and never printed.
 */
export const command: Command = {
  summary: "create the Admin listener's CA, server certificate and first operator certificate",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      "data-dir": { type: "string" },
      host: { type: "string", multiple: true },
      name: { type: "string" },
    });
    if (positionals.length > 0) usageError("usage: keyward admin init [--host NAME]... [--name OPERATOR]");
    const { adminDir, initAdminCredentials } = await import("@keyward/server/service");
    const dir = dataDir(values["data-dir"]);
    const c = initAdminCredentials(dir, {
      ...(values.host === undefined ? {} : { hosts: values.host }),
      ...(values.name === undefined ? {} : { clientName: values.name }),
    });
    printJson({
      adminDir: adminDir(dir),
      operator: c.name,
      files: [
        "ca.pem",
        "ca.key",
        "server.pem",
        "server.key",
        `clients/${c.name}.pem`,
        `clients/${c.name}.key`,
      ],
    });
    return EXIT.ok;
  },
};
