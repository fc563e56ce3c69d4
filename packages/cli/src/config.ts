/**
 * The only reader of the environment in the CLI.
 *
 * @module
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Keyward's data directory: `--data-dir`, else `KEYWARD_DATA_DIR`, else
 * `$XDG_DATA_HOME/keyward`, else `~/.local/share/keyward`. The simulated platform lives in its
 * `sim/` folder, the service's database and keys beside it.
 */
export function dataDir(flag?: string): string {
  if (flag !== undefined) return resolve(flag);
  const env = process.env;
  if (env.KEYWARD_DATA_DIR) return resolve(env.KEYWARD_DATA_DIR);
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

/** The Admin listener named by the environment, if any. */
export function adminAddressFromEnv(): string | undefined {
  return process.env.KEYWARD_ADMIN_ADDR;
}
