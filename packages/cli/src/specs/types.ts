/**
 * What a command is, as data: its name, flags, arguments and examples. The command registry is a
 * list of these; help, shell completion, flag parsing and the CLI's table-driven tests are all
 * generated from it, so a new command gets each of them by being registered.
 *
 * @module
 */
import type { InputKind } from "@keyward/platform/io";

/** One flag. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** May be given more than once (values collected in order). */
  readonly multiple?: boolean;
  /** One-letter alias. */
  readonly short?: string;
  /** The placeholder of its value in help ("FILE", "HOST:PORT"). */
  readonly value?: string;
  /** One line of help. */
  readonly help: string;
  /** The flag names a file the command reads, of this kind (its limit, and the hostile-input tests). */
  readonly file?: InputKind;
  /** Read by the service code rather than the CLI's own reader (the tests say so). */
  readonly readBy?: "server";
  /** The flag names a file or directory the command writes or a directory it uses (completion). */
  readonly path?: "file" | "dir";
  /** The values a shell completes. */
  readonly choices?: readonly string[];
}

/** One positional argument. */
export interface PositionalSpec {
  readonly name: string;
  readonly help: string;
  /** The argument names a file the command reads, of this kind. */
  readonly file?: InputKind;
  readonly optional?: boolean;
  /** The values a shell completes. */
  readonly choices?: readonly string[];
}

/** A command of the `keyward` tree. */
export interface CommandSpec {
  /** "quote verify", "demo". */
  readonly name: string;
  /** One line, lower case, no full stop: the listing in `keyward help`. */
  readonly summary: string;
  /** What follows the name in the usage line. */
  readonly synopsis: string;
  /** Paragraphs shown by `--help` under the usage line. */
  readonly description?: string;
  readonly positionals?: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Prints a result, so takes `--json`. */
  readonly json: boolean;
  /** Arguments after `--` belong to someone else (the enclave app). */
  readonly passThrough?: boolean;
  /** Example argument lists (after `keyward NAME`), shown by `--help`. */
  readonly examples?: readonly string[];
}

type ValueOf<O extends OptionSpec> = O["type"] extends "boolean"
  ? O["multiple"] extends true
    ? boolean[]
    : boolean
  : O["multiple"] extends true
    ? string[]
    : string;

/** The parsed flags of a command (plus `json` when it takes `--json`). */
export type Values<S extends CommandSpec> = {
  readonly [K in keyof S["options"]]?: ValueOf<S["options"][K]>;
} & { readonly json?: boolean };

/** What a command's `run` receives. */
export interface Parsed<S extends CommandSpec> {
  readonly values: Values<S>;
  readonly positionals: readonly string[];
  /** Arguments after `--` (commands with `passThrough`). */
  readonly rest: readonly string[];
  /** `--json` was given. */
  readonly json: boolean;
}
