/**
 * Staging the example enclave apps the demos run (`examples/`, bundled with the command).
 *
 * @module
 */
import { cpSync, existsSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isSingleExecutable } from "@keyward/platform/runtime";

/**
 * Copies the example app in directory `source` to `target` (which must not exist) and returns
 * `target`. The app runs from the copy because Node strips types only outside `node_modules`,
 * where an installed package's own copy lives. The copy gets a `node_modules` link to the one its
 * imports (`@keyward/platform/enclave`, …) resolve from: the nearest above this module holding
 * `@keyward/platform` — the repository's, or an npm project's; a single executable serves those
 * packages itself and gets none.
 *
 * @throws Error from `node:fs` when the copy or the link cannot be made
 */
export function stageExampleApp(source: string, target: string): string {
  cpSync(source, target, { recursive: true, errorOnExist: true, force: false });
  const modules = isSingleExecutable() ? undefined : nodeModules();
  if (modules !== undefined) symlinkSync(modules, join(target, "node_modules"), "dir");
  return target;
}

function nodeModules(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "node_modules");
    if (existsSync(join(candidate, "@keyward", "platform"))) return candidate;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
