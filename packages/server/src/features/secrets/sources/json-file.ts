/**
 * A JSON file: `file:PATH#FIELD` is the string at top-level field FIELD of the JSON document at
 * PATH (read on each release, so an operator may replace the file).
 *
 * A policy is data that an Admin operator (or a replica's database) hands the service, and the
 * service reads files with its own rights: a `file:` grant naming any path would let a policy
 * hand out the host's credentials (a confused deputy). So `file:` paths are confined to the
 * directories named in the service's own configuration (`--secret-file-dirs`, none by default):
 *
 * - when a policy is read or stored, PATH must be absolute, written without `.`/`..` segments or
 *   doubled slashes, and inside a configured directory;
 * - when it is read, the real path (symbolic links resolved) must still be inside the real path of
 *   that directory, and the file is read through the bounded reader off the event loop (regular
 *   files only, at most 4 MiB: a FIFO or `/dev/zero` is refused, never read).
 *
 * @module
 */
import { realpath } from "node:fs/promises";
import { isAbsolute, normalize, sep } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { readTextBoundedAsync } from "@keyward/platform/io";
import { defineOption, type OptionValues } from "../../../ops/options.ts";
import type { SecretSource } from "./source.ts";

/** The directories `file:` grants may read from (absolute, `:`-separated; none by default). */
export const SECRET_FILE_DIRS = defineOption<readonly string[]>({
  key: "secretFileDirs",
  flag: "secret-file-dirs",
  env: "KEYWARD_SECRET_FILE_DIRS",
  kind: "string",
  doc: "directories file: grants may read (absolute paths separated by ':'); others are refused",
  defaultDoc: "(none: file: grants refused)",
  parse(text) {
    const dirs = text.split(":").filter((d) => d !== "");
    if (dirs.length === 0) throw new Error("must name at least one directory");
    for (const d of dirs) if (!isAbsolute(d)) throw new Error(`must be absolute paths, got "${d}"`);
    return dirs.map((d) => (d === "/" ? d : normalize(d).replace(/\/+$/, "")));
  },
  fallback: () => [],
});

/** A `file:` reference split: the path and the field. */
export interface FileReference {
  readonly path: string;
  readonly field: string;
}

/** `file:PATH#FIELD` split at the first `#`; undefined when either part is missing. */
export function parseFileReference(ref: string): FileReference | undefined {
  const body = ref.startsWith("file:") ? ref.slice(5) : ref;
  const hash = body.indexOf("#");
  if (hash <= 0 || hash === body.length - 1) return undefined;
  return { path: body.slice(0, hash), field: body.slice(hash + 1) };
}

const inside = (path: string, dir: string) => path.startsWith(dir === "/" ? "/" : `${dir}${sep}`);

/** Why `ref` is outside the configured directories (checked on its text alone), or undefined. */
export function confineFileReference(ref: string, options: OptionValues): string | undefined {
  const parsed = parseFileReference(ref);
  if (parsed === undefined) return "file: references are file:/ABSOLUTE/PATH#FIELD";
  const dirs = options.get(SECRET_FILE_DIRS);
  if (dirs.length === 0)
    return "file: grants are refused: the service names no directory for them (--secret-file-dirs)";
  const { path } = parsed;
  if (!isAbsolute(path) || normalize(path) !== path || path.split("/").includes(".."))
    return "a file: path must be absolute, without '.', '..' or doubled slashes";
  if (!dirs.some((d) => inside(path, d)))
    return `a file: path must be inside a directory of --secret-file-dirs (${dirs.join(", ")})`;
  return undefined;
}

const unsupported = (message: string) => new KeywardError("ERR_SERVICE_SOURCE_UNSUPPORTED", message);

export const jsonFileSource: SecretSource = {
  scheme: "file",
  options: [SECRET_FILE_DIRS],
  confine: confineFileReference,
  async read(ref, { options }) {
    const problem = confineFileReference(ref, options);
    if (problem !== undefined) throw unsupported(problem);
    const { path, field } = parseFileReference(ref) as FileReference;
    let text: string;
    try {
      // Symbolic links inside the directory may point anywhere: compare real paths.
      const real = await realpath(path);
      const dirs = await Promise.all(options.get(SECRET_FILE_DIRS).map((d) => realpath(d).catch(() => "")));
      if (!dirs.some((d) => d !== "" && inside(real, d)))
        throw unsupported("a file: path leads outside the directories of --secret-file-dirs");
      text = await readTextBoundedAsync(real, { kind: "document", what: "secret file" });
    } catch (cause) {
      if (cause instanceof KeywardError && cause.code === "ERR_SERVICE_SOURCE_UNSUPPORTED") throw cause;
      // The workload learns that the file is unusable, not the host's paths or errno.
      throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "JSON secret file unreadable", { cause });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (cause) {
      throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "JSON secret file is not JSON", { cause });
    }
    const v =
      typeof doc === "object" && doc !== null && !Array.isArray(doc) && Object.hasOwn(doc, field)
        ? (doc as Record<string, unknown>)[field]
        : undefined;
    if (typeof v !== "string")
      throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "no such field in JSON secret file");
    return { value: new TextEncoder().encode(v), version: 0 };
  },
};
