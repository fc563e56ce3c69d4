/**
 * Flag parsing with node:util's parseArgs, turning its errors into ERR_USAGE.
 *
 * @module
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { KeywardError } from "@keyward/attest/errors";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags and positionals. */
export interface Parsed<O extends Options> {
  readonly values: ReturnType<
    typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>
  >["values"];
  readonly positionals: string[];
}

/** Parses `args` strictly; unknown flags and missing values are ERR_USAGE. */
export function parseFlags<O extends Options>(args: readonly string[], options: O): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (cause) {
    throw new KeywardError("ERR_USAGE", cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** Throws ERR_USAGE with `message`. */
export function usageError(message: string): never {
  throw new KeywardError("ERR_USAGE", message);
}
