/**
 * What a Keyward single executable (Node SEA, built by `scripts/build-sea.ts`) carries besides its
 * main script, and the one way code asks for it. Run from sources, the same calls answer from the
 * repository's files, so callers never branch on how they were started.
 *
 * Asset keys (written by the build, read here):
 *
 * | key                      | what                                                        |
 * |--------------------------|-------------------------------------------------------------|
 * | `thread/NAME.mjs`        | a worker thread's module, bundled (see threads.ts)          |
 * | `dir/NAME/REL`           | file REL of a bundled directory (see {@link openBundledDirectory}) |
 * | `lib/specifiers.json`    | bare specifier → module file, for enclave apps (child-module.ts) |
 * | `lib/FILE.mjs`           | those modules and their shared chunks                       |
 *
 * Node's SEA docs: https://nodejs.org/docs/latest-v24.x/api/single-executable-applications.html
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize, sep } from "node:path";
import sea from "node:sea";
import { fileURLToPath } from "node:url";
import { KeywardError } from "@keyward/attest/errors";

/** Whether this process is a Keyward single executable rather than `node` running sources. */
export function isSingleExecutable(): boolean {
  return sea.isSea();
}

/**
 * An asset of this single executable as UTF-8 text.
 * @throws ERR_INTERNAL when the process is not a single executable or the build did not embed `key`
 */
export function embeddedText(key: string): string {
  try {
    return sea.getAsset(key, "utf8");
  } catch (cause) {
    throw new KeywardError("ERR_INTERNAL", `this build does not embed ${key}`, { cause });
  }
}

/** Keys of this single executable's assets that start with `prefix` (none when run from sources). */
export function embeddedKeys(prefix: string): string[] {
  if (!sea.isSea()) return [];
  return sea.getAssetKeys().filter((k) => k.startsWith(prefix));
}

/** A directory of read-only data: in the repository, or extracted from the executable. */
export interface BundledDirectory {
  /** Absolute path of the directory (with a trailing separator). */
  readonly path: string;
  /** Removes an extracted copy; nothing to do for the repository's own directory. */
  close(): void;
}

/**
 * Opens a directory of data that a command needs at run time (the demo's quotes, an example
 * app). From sources it is `source`, the directory itself; in a single executable the build
 * embedded its files as `dir/NAME/…` and they are written to a fresh private temporary
 * directory (0700), removed by `close()`.
 *
 * The build finds every call by its literal form — `openBundledDirectory("NAME", new URL("REL",
 * import.meta.url))`, or a `const` of the same file holding that URL — and embeds the directory
 * REL names, so adding one needs no build table.
 *
 * @throws ERR_INTERNAL when the executable does not embed NAME; ERR_IO when it cannot be written
 */
export function openBundledDirectory(name: string, source: URL): BundledDirectory {
  if (!sea.isSea()) return { path: fileURLToPath(source), close: () => {} };
  const prefix = `dir/${name}/`;
  const keys = embeddedKeys(prefix);
  if (keys.length === 0) throw new KeywardError("ERR_INTERNAL", `this build does not embed ${prefix}`);
  const root = mkdtempSync(join(tmpdir(), `keyward-${name}-`));
  try {
    for (const key of keys) {
      const rel = normalize(key.slice(prefix.length));
      // The build writes only relative, normalized names; refuse anything else rather than trust it.
      if (rel.startsWith("..") || rel.startsWith(sep))
        throw new KeywardError("ERR_INTERNAL", `embedded file name ${key} leaves its directory`);
      const file = join(root, rel);
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, new Uint8Array(sea.getRawAsset(key)), { flag: "wx", mode: 0o600 });
    }
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    if (e instanceof KeywardError) throw e;
    throw new KeywardError("ERR_IO", `cannot extract ${prefix} to ${root}`, { cause: e });
  }
  return { path: `${root}${sep}`, close: () => rmSync(root, { recursive: true, force: true }) };
}
