/**
 * Flag parsing from a command's spec, with node:util's parseArgs in strict mode: unknown flags,
 * missing values and a wrong number of arguments are ERR_USAGE (exit 2), with the usage line.
 *
 * @module
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { fromHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import type { CommandSpec, Parsed } from "./specs/types.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** True when `args` asks for help (before any `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** True when `args` asks for JSON output (before any `--`), whether or not the command takes it. */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).includes("--json");
}

/**
 * Parses `args` for the command `spec` describes.
 * @throws ERR_USAGE
 */
export function parseCommand<S extends CommandSpec>(spec: S, args: readonly string[]): Parsed<S> {
  const end = spec.passThrough === true ? args.indexOf("--") : -1;
  const own = end < 0 ? args : args.slice(0, end);
  const rest = end < 0 ? [] : args.slice(end + 1);
  if (!spec.json && own.includes("--json"))
    usageError(`keyward ${spec.name} prints no result to format: --json is not one of its flags`, spec);
  const options: Options = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = {
      type: o.type,
      ...(o.multiple === true ? { multiple: true } : {}),
      ...(o.short === undefined ? {} : { short: o.short }),
    };
  }
  if (spec.json) options.json = { type: "boolean" };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...own], options, allowPositionals: true, strict: true });
  } catch (cause) {
    usageError(cause instanceof Error ? cause.message : String(cause), spec);
  }
  const positionals = spec.positionals ?? [];
  const required = positionals.filter((p) => p.optional !== true).length;
  // `help` takes a command's words; everything else takes exactly its arguments.
  const max = spec.name === "help" ? Number.POSITIVE_INFINITY : positionals.length;
  if (parsed.positionals.length < required || parsed.positionals.length > max) {
    const names = positionals.map((p) => p.name).join(" ");
    usageError(
      parsed.positionals.length > max
        ? `unexpected argument "${parsed.positionals[max]}"`
        : `missing ${names === "" ? "an argument" : names}`,
      spec,
    );
  }
  for (const [i, p] of positionals.entries()) {
    const v = parsed.positionals[i];
    if (v !== undefined && p.choices !== undefined && !p.choices.includes(v))
      usageError(`${p.name} must be one of ${p.choices.join(", ")}, not "${v}"`, spec);
  }
  for (const [name, o] of Object.entries(spec.options)) {
    const v = parsed.values[name];
    if (typeof v === "string" && o.choices !== undefined && !o.choices.includes(v))
      usageError(`--${name} must be one of ${o.choices.join(", ")}, not "${v}"`, spec);
  }
  return {
    values: parsed.values as Parsed<S>["values"],
    positionals: parsed.positionals,
    rest,
    json: parsed.values.json === true,
  };
}

/** Throws ERR_USAGE with `message` (and, in its detail, the command's usage line when a spec is given). */
export function usageError(message: string, spec?: CommandSpec): never {
  throw new KeywardError(
    "ERR_USAGE",
    message,
    spec === undefined
      ? {}
      : { detail: { usage: `keyward ${spec.name} ${spec.synopsis}`, command: spec.name } },
  );
}

/** The value of a required flag. @throws ERR_USAGE */
export function required(value: string | undefined, flag: string, spec?: CommandSpec): string {
  if (value === undefined) usageError(`--${flag} is required`, spec);
  return value;
}

/** The bytes of a hex flag value. @throws ERR_USAGE when it is not hex */
export function hexFlag(value: string, flag: string, spec?: CommandSpec): Uint8Array {
  try {
    return fromHex(value, flag);
  } catch (cause) {
    return usageError(cause instanceof Error ? cause.message : `${flag}: not hex`, spec);
  }
}
