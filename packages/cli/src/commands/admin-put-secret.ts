import { readFileBounded } from "@keyward/platform/io";
import { openAdminTarget } from "../admin-target.ts";
import { required, usageError } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { adminPutSecret } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin put-secret NAME --value-file F [--allow-empty] [--admin HOST:PORT | store flags]` —
 * stores the next version of NAME (envelope-encrypted). The value is read from a file so that it
 * never appears in the process list or a shell history; a value over the Admin listener's 1 MiB
 * limit is refused before a byte is sent, and an empty one (a truncated or wrong file, usually)
 * unless --allow-empty says it is meant.
 */
export async function run({ values, positionals, json }: Parsed<typeof adminPutSecret>): Promise<ExitCode> {
  const name = positionals[0] as string;
  const file = required(values["value-file"], "value-file", adminPutSecret);
  const value = readFileBounded(file, { kind: "secretValue", what: "secret value" });
  try {
    if (value.byteLength === 0 && values["allow-empty"] !== true)
      usageError(
        `secret value ${file}: the file is empty (--allow-empty stores an empty value)`,
        adminPutSecret,
      );
    const target = await openAdminTarget(values);
    try {
      const { version } = await target.putSecret(name, value);
      if (json) printJson({ name, version });
      else say(`secret ${name} stored as version ${version}`);
      return EXIT.ok;
    } finally {
      await target.close();
    }
  } finally {
    value.fill(0);
  }
}
