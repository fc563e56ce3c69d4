/**
 * The service's configuration file (`keyward serve --config FILE`): YAML (`.yaml`, `.yml`) or TOML
 * (`.toml`), chosen by the file's extension. Its keys are the option table's camelCase keys (the
 * flag `--admin-listen` is `adminListen`), plus `dataDir`; values are strings, numbers (written
 * as text, so `otpMaxFailures: 5` works) or, for switches, booleans. Flags win over KEYWARD_*
 * variables, which win over the file (options.ts reads all three).
 *
 * Secrets never sit in the file: a configuration file is shared, versioned and mounted as a
 * ConfigMap, so it names the files that hold secrets (`masterKeyFile`, `databaseUrlFile`, …) and
 * a value that looks like a secret — a PEM private key, a token, a URL with a password, a long
 * key-like blob — is refused with the key that holds it (never the value).
 *
 * @module
 */
import { extname } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { readTextBounded } from "@keyward/platform/io";
import { parse as parseToml } from "smol-toml";
import { parseDocument } from "yaml";

/** The largest configuration file read (a real one is a few hundred bytes). */
export const CONFIG_FILE_MAX_BYTES = 256 * 1024;

/** The key of the data directory (the CLI's `--data-dir`, not an option of the table). */
export const DATA_DIR_KEY = "dataDir";

/** A configuration file, read and parsed (values not yet checked against the table). */
export interface ConfigFile {
  readonly path: string;
  /** The top-level keys and their values as parsed (string, number, boolean, or anything else). */
  readonly values: ReadonlyMap<string, unknown>;
}

/**
 * Reads and parses the configuration file at `path` (YAML or TOML by its extension).
 * @throws ERR_IO (unreadable, over 256 KiB), ERR_SERVICE_CONFIG (unknown extension, syntax error,
 * not a mapping of keys to values)
 */
export function readConfigFile(path: string): ConfigFile {
  // Read first: a path that is no file at all is an I/O problem, whatever its name.
  const text = readTextBounded(path, {
    kind: "document",
    what: "configuration file",
    maxBytes: CONFIG_FILE_MAX_BYTES,
  });
  return { path, values: parseConfigText(text, formatOf(path), path) };
}

/**
 * Parses configuration text in `format`.
 * @throws ERR_SERVICE_CONFIG
 */
export function parseConfigText(
  text: string,
  format: "yaml" | "toml",
  path = "configuration",
): ReadonlyMap<string, unknown> {
  let root: unknown;
  try {
    if (format === "toml") root = parseToml(text);
    else {
      // One document; aliases bounded (a "billion laughs" file is refused, not expanded).
      // Warnings (an unknown tag) are errors too, and never printed by the parser itself: its
      // messages quote the source line.
      const doc = parseDocument(text, { uniqueKeys: true, logLevel: "silent" });
      if (doc.errors.length > 0) throw doc.errors[0];
      if (doc.warnings.length > 0) throw doc.warnings[0];
      root = doc.toJS({ maxAliasCount: 100 }) ?? {};
    }
  } catch (e) {
    // The parser's message names the line and column; it may quote the line, so secrets written by
    // mistake could appear: keep only its first line, which is the position and the reason.
    const first = (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
    const at = e as { line?: unknown; column?: unknown };
    const reason =
      typeof at.line === "number" && !first.includes(" at line ")
        ? `${first} at line ${at.line}, column ${String(at.column)}`
        : first;
    const message = `${path}: not valid ${format.toUpperCase()}: ${reason}`;
    throw new KeywardError("ERR_SERVICE_CONFIG", message, { detail: { problems: [message] } });
  }
  if (typeof root !== "object" || root === null || Array.isArray(root)) {
    const message = `${path}: must be a mapping of keys to values`;
    throw new KeywardError("ERR_SERVICE_CONFIG", message, { detail: { problems: [message] } });
  }
  return new Map(Object.entries(root));
}

function formatOf(path: string): "yaml" | "toml" {
  const ext = extname(path).toLowerCase();
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  if (ext === ".toml") return "toml";
  throw new KeywardError(
    "ERR_SERVICE_CONFIG",
    `configuration file ${path}: the name must end in .yaml, .yml or .toml (the format is chosen by it)`,
  );
}

/**
 * Why `value` (of `key`) looks like a secret, or undefined when it does not. Deliberately
 * conservative in what it lets through: a false alarm costs a file edit, a secret in a ConfigMap
 * costs a rotation.
 */
export function secretLooking(value: string): string | undefined {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) return "a PEM private key";
  if (/^(hv[sbr]|s|b|r)\.[A-Za-z0-9_-]{20,}$/.test(value)) return "a Vault token";
  if (/^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\./.test(value)) return "a JSON Web Token";
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) return "a URL with a password";
  if (/^(?:[0-9a-f]{2}){16,}$/i.test(value)) return "a hexadecimal key";
  // Paths (absolute, relative, with an extension) are what the file should hold: not judged here.
  const path = /^(?:\/|\.\.?\/|~)/.test(value) || value.includes(".");
  if (
    !path &&
    /^[A-Za-z0-9+/_-]{32,}={0,2}$/.test(value) &&
    /\d/.test(value) &&
    /[A-Z]/.test(value) &&
    /[a-z]/.test(value)
  )
    return "a base64 key";
  return undefined;
}
