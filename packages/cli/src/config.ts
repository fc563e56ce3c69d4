/**
 * The only reader of the environment in the CLI.
 *
 * @module
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Keyward's data directory: `--data-dir`, else `KEYWARD_DATA_DIR`, else the configuration file's
 * `dataDir`, else `$XDG_DATA_HOME/keyward`, else `~/.local/share/keyward`. The simulated platform
 * lives in its `sim/` folder, the service's database and keys beside it.
 */
export function dataDir(flag?: string, fromFile?: string): string {
  if (flag !== undefined) return resolve(flag);
  const env = process.env;
  if (env.KEYWARD_DATA_DIR) return resolve(env.KEYWARD_DATA_DIR);
  if (fromFile !== undefined) return resolve(fromFile);
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, "keyward");
  return join(homedir(), ".local", "share", "keyward");
}

/**
 * Whether colour may be used at all (the caller also checks that the stream is a terminal): never
 * with NO_COLOR set to anything (no-color.org) or on a dumb terminal.
 */
export function colorAllowed(): boolean {
  const env = process.env;
  return (env.NO_COLOR === undefined || env.NO_COLOR === "") && env.TERM !== "dumb";
}

/** Whether progress may be shown: on a terminal, and not in CI logs that happen to be one. */
export function progressAllowed(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && process.env.TERM !== "dumb";
}

/** The service's configuration file: `--config`, else `KEYWARD_CONFIG`, else none. */
export function configPath(flag?: string): string | undefined {
  if (flag !== undefined) return resolve(flag);
  const env = process.env.KEYWARD_CONFIG;
  return env === undefined || env === "" ? undefined : resolve(env);
}

/** The environment, for the server's option table (KEYWARD_* variables). */
export function environment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

/** The Admin listener named by the environment, if any. */
export function adminAddressFromEnv(): string | undefined {
  return process.env.KEYWARD_ADMIN_ADDR;
}
