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
