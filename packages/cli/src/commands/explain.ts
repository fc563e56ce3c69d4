import { errorDocs, isErrorCode } from "@keyward/attest/errors";
import type { Command } from "../main.ts";
import { EXIT } from "../output.ts";

/** `keyward explain [CODE]`: what an error code means. */
export const command: Command = {
  summary: "describe an error code (or list them all)",
  async run(args) {
    const [code] = args;
    if (code === undefined) {
      for (const [c, doc] of Object.entries(errorDocs)) process.stdout.write(`${c}\n    ${doc}\n`);
      return EXIT.ok;
    }
    if (!isErrorCode(code)) {
      process.stderr.write(`keyward: unknown error code ${code}\n`);
      return EXIT.usage;
    }
    process.stdout.write(`${code}: ${errorDocs[code]}\n`);
    return EXIT.ok;
  },
};
