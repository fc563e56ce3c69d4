/**
 * Configuration options as data: one table of {@link Option}s (the core's and each feature's),
 * read once at start from command-line flags, then KEYWARD_* environment variables, then the
 * configuration file (config-file.ts; keys are the options' camelCase `key`), then defaults, with
 * every problem listed at once. The same table drives the CLI's flags.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { type ConfigFile, DATA_DIR_KEY, secretLooking } from "./config-file.ts";

/** Where the value of an option was given. */
export type OptionSource = "flag" | "env" | "file" | "default";

/** One option. `T` is its parsed value. */
export interface Option<T> {
  /** camelCase name: the key in a configuration file and in the `flags` object. */
  readonly key: string;
  /** The command-line flag, without `--` (kebab-case). */
  readonly flag: string;
  /** The environment variable (`KEYWARD_*`). */
  readonly env: string;
  /** A boolean flag takes no value (`--simulation`); its environment form is `1`. */
  readonly kind: "string" | "boolean";
  /** One line for `--help` and docs/operations.md. */
  readonly doc: string;
  /** The default as shown to people ("DATA_DIR/policies", "off", "(none)"). */
  readonly defaultDoc: string;
  /**
   * Also an option of the admin commands that open the service's store locally (where the data
   * lives and how it is trusted), not only of `keyward serve`.
   */
  readonly store?: boolean;
  /** Parses a given value; throws a string naming the problem (without the option's name). */
  readonly parse: (text: string) => T;
  /** The value when not given (may depend on the data directory). */
  readonly fallback: (dataDir: string) => T;
}

/** Declares an option (a helper only for type inference). */
export function defineOption<T>(option: Option<T>): Option<T> {
  return option;
}

/** Values of every option, read once. */
export interface OptionValues {
  /** The value of `option` (it must be one of the table the values were read with). */
  get<T>(option: Option<T>): T;
  /** Where `option`'s value came from. */
  source(option: Option<unknown>): OptionSource;
}

/** Where values come from: flags by flag name or key, the environment, a configuration file. */
export interface OptionInputs {
  readonly dataDir: string;
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The configuration file (`--config`), when one was given. */
  readonly file?: ConfigFile | undefined;
}

/**
 * Reads every option of `table`.
 * @throws ERR_SERVICE_CONFIG listing every problem (`detail.problems`), when any
 */
export function readOptions(table: readonly Option<unknown>[], inputs: OptionInputs): OptionValues {
  checkTable(table);
  const values = new Map<Option<unknown>, { value: unknown; source: OptionSource }>();
  const problems: string[] = inputs.file === undefined ? [] : unknownKeys(table, inputs.file);
  for (const o of table) {
    const flag = inputs.flags[o.flag] ?? inputs.flags[o.key];
    const env = inputs.env[o.env];
    let given: { text: string; source: OptionSource } | undefined;
    if (o.kind === "boolean") {
      if (flag === true || flag === "true") given = { text: "1", source: "flag" };
      else if (env !== undefined && env !== "") given = { text: env, source: "env" };
    } else if (typeof flag === "string") given = { text: flag, source: "flag" };
    else if (env !== undefined) given = { text: env, source: "env" };
    if (given === undefined && inputs.file?.values.has(o.key)) {
      const text = fileText(o, inputs.file);
      if (typeof text !== "string") {
        problems.push(text.problem);
        continue;
      }
      given = { text, source: "file" };
    }
    if (given === undefined) {
      values.set(o, { value: o.fallback(inputs.dataDir), source: "default" });
      continue;
    }
    try {
      values.set(o, { value: o.parse(given.text), source: given.source });
    } catch (problem) {
      const where = given.source === "file" ? `${inputs.file?.path}: ${o.key}` : `--${o.flag}/${o.env}`;
      problems.push(`${where} ${problem instanceof Error ? problem.message : String(problem)}`);
    }
  }
  if (problems.length > 0)
    throw new KeywardError("ERR_SERVICE_CONFIG", problems.join("; "), { detail: { problems } });
  const entry = (o: Option<unknown>) => {
    const e = values.get(o);
    if (e === undefined) throw new KeywardError("ERR_INTERNAL", `option ${o.key} is not in the table`);
    return e;
  };
  return { get: <T>(o: Option<T>) => entry(o).value as T, source: (o) => entry(o).source };
}

// A key the table does not know is a typo or an option of another version: refused, never ignored.
function unknownKeys(table: readonly Option<unknown>[], file: ConfigFile): string[] {
  const known = new Set([DATA_DIR_KEY, ...table.map((o) => o.key)]);
  const problems: string[] = [];
  const dir = file.values.get(DATA_DIR_KEY);
  if (dir !== undefined && (typeof dir !== "string" || dir === ""))
    problems.push(`${file.path}: ${DATA_DIR_KEY} must be a path`);
  for (const key of file.values.keys()) {
    if (known.has(key)) continue;
    const byFlag = table.find((o) => o.flag === key || o.env === key);
    problems.push(
      byFlag === undefined
        ? `${file.path}: ${key} is not an option of keyward serve`
        : `${file.path}: ${key} is not a key: write ${byFlag.key}`,
    );
  }
  return problems;
}

// The text of option `o` in the file, as a flag would give it, or the problem with it. The
// problem names the key and the kind of secret, never the value.
function fileText(o: Option<unknown>, file: ConfigFile): string | { problem: string } {
  const value = file.values.get(o.key);
  const at = `${file.path}: ${o.key}`;
  if (o.kind === "boolean") {
    if (typeof value === "boolean") return value ? "1" : "0";
    return { problem: `${at} must be true or false` };
  }
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" && Number.isFinite(value)) text = String(value);
  else return { problem: `${at} must be a string` };
  const secret = secretLooking(text);
  if (secret !== undefined)
    return {
      problem: `${at} looks like ${secret}: secrets never go in the configuration file; put it in a file (mode 0600) and name that file${secretFileHint(o)}`,
    };
  return text;
}

function secretFileHint(o: Option<unknown>): string {
  return o.key === "databaseUrl" ? " with databaseUrlFile" : "";
}

// Two features naming the same flag, variable or key would silently share a value.
function checkTable(table: readonly Option<unknown>[]): void {
  for (const field of ["key", "flag", "env"] as const) {
    const seen = new Set<string>();
    for (const o of table) {
      if (seen.has(o[field]))
        throw new KeywardError("ERR_INTERNAL", `two options have the ${field} "${o[field]}"`);
      seen.add(o[field]);
    }
  }
}

/** Parsers shared by options. */
export const parsers = {
  /** `HOST:PORT` (IPv6 hosts in brackets; port 0 = any free port). */
  hostPort(text: string): { readonly host: string; readonly port: number } {
    const m = /^(.*):(\d{1,5})$/.exec(text);
    const port = Number(m?.[2]);
    if (m === null || port > 65535) throw new Error(`must be HOST:PORT, got "${text}"`);
    return { host: (m[1] ?? "").replace(/^\[|\]$/g, ""), port };
  },
  /** An http(s) URL. */
  httpUrl(text: string): string {
    if (!/^https?:\/\/./.test(text)) throw new Error("must be an http(s) URL");
    return text;
  },
  /** `1`, `true` or `0`, `false`. */
  boolean(text: string): boolean {
    if (text === "1" || text === "true") return true;
    if (text === "0" || text === "false") return false;
    throw new Error(`must be 1 or 0, got "${text}"`);
  },
  /** One of `values`. */
  oneOf<const V extends string>(values: readonly V[]): (text: string) => V {
    return (text) => {
      const v = values.find((x) => x === text);
      if (v === undefined) throw new Error(`must be ${values.join(", ")}, got "${text}"`);
      return v;
    };
  },
  /** Any non-empty text. */
  text(text: string): string {
    if (text === "") throw new Error("must not be empty");
    return text;
  },
};
