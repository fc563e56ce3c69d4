import { openAdminTarget } from "../admin-target.ts";
import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { adminCreateKey } from "../specs/admin.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward admin create-key KEY-ID --algorithm AES-256-GCM|P-256|Ed25519|RSA-3072 [--admin HOST:PORT]`
 * — creates a KMS key, or rotates it (a new version, old versions kept) when it exists.
 */
export async function run({ values, positionals, json }: Parsed<typeof adminCreateKey>): Promise<ExitCode> {
  const keyId = positionals[0] as string;
  const algorithm = required(values.algorithm, "algorithm", adminCreateKey);
  const target = await openAdminTarget(values);
  try {
    const { version } = await target.createKey(keyId, algorithm);
    if (json) printJson({ keyId, version, algorithm });
    else say(`key ${keyId}: version ${version} (${algorithm}) created in the ${target.where}`);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
