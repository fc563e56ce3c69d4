import { bashCompletion, zshCompletion } from "../completion.ts";
import { EXIT, type ExitCode } from "../output.ts";
import type { completion } from "../specs/misc.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward completion bash|zsh`: prints the completion script. */
export async function run({ positionals }: Parsed<typeof completion>): Promise<ExitCode> {
  process.stdout.write(positionals[0] === "zsh" ? zshCompletion() : bashCompletion());
  return EXIT.ok;
}
