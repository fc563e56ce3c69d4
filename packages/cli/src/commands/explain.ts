import { usageError } from "../args.ts";
import { EXIT, type ExitCode, printJson, printJsonLine, say } from "../output.ts";
import { explain } from "../specs/misc.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward explain [CODE] [--json]`: what an error code means, the library's and the service's (a listing: JSON Lines). */
export async function run({ positionals, json }: Parsed<typeof explain>): Promise<ExitCode> {
  const { ALL_ERROR_DOCS: errorDocs, isKnownErrorCode: isErrorCode } = await import("@keyward/server/errors");
  const [code] = positionals;
  if (code === undefined) {
    for (const [c, description] of Object.entries(errorDocs)) {
      if (json) printJsonLine({ code: c, description });
      else say(`${c}\n    ${description}`);
    }
    return EXIT.ok;
  }
  if (!isErrorCode(code)) usageError(`unknown error code ${code}`, explain);
  if (json) printJson({ code, description: errorDocs[code] });
  else say(`${code}: ${errorDocs[code]}`);
  return EXIT.ok;
}
