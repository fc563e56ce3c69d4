/**
 * The `keyward` command tree. Thin: each command parses its flags from its spec, calls the packages
 * and prints. `--help`, `help COMMAND`, `--version` and usage errors are answered here for every
 * command alike, from the registry.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { parseCommand, wantsHelp, wantsJson } from "./args.ts";
import { commandHelp, groupHelp, overview } from "./help.ts";
import { EXIT, type ExitCode, reportFailure } from "./output.ts";
import { findCommand, groups } from "./registry.ts";
import { version } from "./version.ts";

/** Runs `keyward ARGS` and returns the exit status. */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  const [first] = argv;
  if (first === undefined) {
    process.stderr.write(overview());
    return EXIT.usage;
  }
  if (first === "--version" || first === "-V") {
    process.stdout.write(`keyward ${version()}\n`);
    return EXIT.ok;
  }
  if (first === "--help" || first === "-h") {
    process.stdout.write(overview());
    return EXIT.ok;
  }
  const found = findCommand(argv);
  if (found === undefined) {
    // A group alone ("keyward quote", "keyward admin otp"), with or without --help.
    const two = argv.slice(0, 2).join(" ");
    const words = argv.length > 1 && groupHelp(two) !== undefined ? 2 : 1;
    const group = groupHelp(argv.slice(0, words).join(" "));
    if (group !== undefined && (argv.length === words || wantsHelp(argv.slice(words)))) {
      if (argv.length === words) {
        process.stderr.write(group);
        return EXIT.usage;
      }
      process.stdout.write(group);
      return EXIT.ok;
    }
    const name = argv.slice(0, groups().includes(first) ? 2 : 1).join(" ");
    return unknown(name, wantsJson(argv));
  }
  const { command, words } = found;
  const args = argv.slice(words);
  if (wantsHelp(args)) {
    process.stdout.write(commandHelp(command.spec));
    return EXIT.ok;
  }
  const json = command.spec.json && wantsJson(args);
  try {
    const parsed = parseCommand(command.spec, args);
    if (command.load === undefined) return help(parsed.positionals);
    const module = await command.load();
    return await module.run(parsed);
  } catch (e) {
    return reportFailure(e, json);
  }
}

function help(words: readonly string[]): ExitCode {
  if (words.length === 0) {
    process.stdout.write(overview());
    return EXIT.ok;
  }
  const found = findCommand(words);
  if (found !== undefined && found.words === words.length) {
    process.stdout.write(commandHelp(found.command.spec));
    return EXIT.ok;
  }
  const group = words.length <= 2 ? groupHelp(words.join(" ")) : undefined;
  if (group !== undefined) {
    process.stdout.write(group);
    return EXIT.ok;
  }
  return unknown(words.join(" "), false);
}

// An unknown command: the error, then (in text mode) the list of commands, on stderr.
function unknown(name: string, json: boolean): ExitCode {
  const status = reportFailure(
    new KeywardError("ERR_USAGE", `unknown command "${name}" (keyward help lists the commands)`),
    json,
  );
  if (!json) process.stderr.write(`\n${overview()}`);
  return status;
}
