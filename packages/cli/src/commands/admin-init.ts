import { dataDir } from "../config.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import type { adminInit } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin init [--data-dir DIR] [--host NAME|IP]... [--name OPERATOR] [--json]` — creates the
 * Admin listener's mutual-TLS credentials under DATA_DIR/admin/: a private admin CA, the listener's
 * certificate (for localhost and every --host) and the first operator's client certificate.
 * Private keys are written 0600 and never printed.
 */
export async function run({ values, json }: Parsed<typeof adminInit>): Promise<ExitCode> {
  const { adminDir, initAdminCredentials } = await import("@keyward/server/admin");
  const dir = dataDir(values["data-dir"]);
  const c = initAdminCredentials(dir, {
    ...(values.host === undefined ? {} : { hosts: values.host }),
    ...(values.name === undefined ? {} : { clientName: values.name }),
  });
  const out = {
    adminDir: adminDir(dir),
    operator: c.name,
    files: ["ca.pem", "ca.key", "server.pem", "server.key", `clients/${c.name}.pem`, `clients/${c.name}.key`],
  };
  if (json) printJson(out);
  else
    say(
      `Admin credentials created in ${out.adminDir}: CA, listener certificate, and operator "${c.name}" (keys 0600)`,
    );
  return EXIT.ok;
}
