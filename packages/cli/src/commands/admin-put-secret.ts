import { readFileSync } from "node:fs";
import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";

/**
 * `keyward admin put-secret NAME --value-file F [--admin HOST:PORT | store flags]` — stores the next
 * version of NAME (envelope-encrypted). The value is read from a file so that it never appears in
 * the process list or a shell history.
 */
export const command: Command = {
  summary: "store a new version of a secret (value read from a file; envelope-encrypted)",
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...ADMIN_FLAGS, "value-file": { type: "string" } });
    const [name] = positionals;
    if (name === undefined || positionals.length !== 1 || values["value-file"] === undefined)
      usageError("usage: keyward admin put-secret NAME --value-file FILE [--admin HOST:PORT]");
    const value = new Uint8Array(readFileSync(values["value-file"]));
    const target = await openAdminTarget(values);
    try {
      const { version } = await target.putSecret(name, value);
      value.fill(0);
      printJson({ name, version });
      return EXIT.ok;
    } finally {
      await target.close();
    }
  },
};
