/**
 * Which file a SQLite database is: its device and inode, checked before every commit so that a
 * database file removed or replaced under a running service is noticed (writes into an unlinked
 * file would be acknowledged and lost), and a URI that reopens it without ever creating one.
 * No node:sqlite here: the audit writer's thread loads it only after its warning filter.
 *
 * @module
 */
import { statSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** `path` as a URI that opens an existing database only (`mode=rw`: never creates one). */
export function fileUrl(path: string): URL {
  const url = pathToFileURL(path);
  url.searchParams.set("mode", "rw");
  return url;
}

/** The device and inode of `path`, or undefined when it does not exist. */
export function fileIdentity(path: string): { readonly dev: number; readonly ino: number } | undefined {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}
