import { KeywardError } from "@keyward/attest/errors";
import { licensingClient } from "../license-session.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { licenseLaunch } from "../specs/licensing.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward license launch [--licence ID]` — launches an enclave under the licence (default: the
 * first active one) and prints its id, address and certificate hash. Refusals:
 * ERR_LICENSING_NO_LICENCE, ERR_LICENSING_LIMIT, ERR_LICENSING_TOKEN_INVALID (log in again).
 */
export async function run({ values, json }: Parsed<typeof licenseLaunch>): Promise<ExitCode> {
  const client = await licensingClient(values, licenseLaunch, true);
  let licence = values.licence;
  if (licence === undefined) {
    licence = (await client.licences()).find((l) => l.status === "active")?.id;
    if (licence === undefined)
      throw new KeywardError("ERR_LICENSING_NO_LICENCE", "you have no active licence");
  }
  const e = await client.launch(licence);
  if (json)
    printJson({
      enclave: e.id,
      licence: e.licenceId,
      host: e.host,
      port: e.port,
      certificateSha256: e.certificateSha256,
    });
  else say(`enclave ${e.id} ready at ${e.host}:${e.port} (certificate SHA-256 ${e.certificateSha256})`);
  return EXIT.ok;
}
