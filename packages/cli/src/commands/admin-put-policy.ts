import { ADMIN_FLAGS, openAdminTarget } from "../admin-target.ts";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";
import { readText } from "../read-input.ts";

/**
 * `keyward admin put-policy FILE [--admin HOST:PORT | store flags]` — validates one policy (JSON or
 * YAML, by extension or content) and stores its next version; replicas apply it within seconds.
 */
export const command: Command = {
  summary: "validate and store a policy (JSON or YAML); errors name the path and problem",
  async run(args) {
    const { values, positionals } = parseFlags(args, ADMIN_FLAGS);
    const [file] = positionals;
    if (file === undefined || positionals.length !== 1) usageError("usage: keyward admin put-policy FILE");
    const format = /\.ya?ml$/i.test(file) ? "yaml" : /\.json$/i.test(file) ? "json" : "";
    const document = readText(file, "policy");
    const target = await openAdminTarget(values);
    try {
      printJson(await target.putPolicy(document, format));
      return EXIT.ok;
    } finally {
      await target.close();
    }
  },
};
