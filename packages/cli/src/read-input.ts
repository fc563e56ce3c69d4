/**
 * Reading the CLI's input files: a missing or unreadable file is a usage error (exit 2), never a
 * verification verdict.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { KeywardError } from "@keyward/attest/errors";

const MAX_INPUT = 16 * 1024 * 1024;

/** The bytes of `path`. @throws ERR_IO */
export function readBytes(path: string, what: string): Uint8Array {
  try {
    const b = readFileSync(path);
    if (b.byteLength > MAX_INPUT)
      throw new KeywardError("ERR_IO", `${what} ${path}: larger than ${MAX_INPUT} bytes`);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (cause) {
    if (cause instanceof KeywardError) throw cause;
    throw new KeywardError("ERR_IO", `${what} ${path}: cannot be read`, { cause });
  }
}

/** The text (strict UTF-8) of `path`. @throws ERR_IO */
export function readText(path: string, what: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(readBytes(path, what));
  } catch (cause) {
    if (cause instanceof KeywardError) throw cause;
    throw new KeywardError("ERR_IO", `${what} ${path}: not UTF-8 text`, { cause });
  }
}

/** An ISO-8601 time. @throws ERR_USAGE */
export function parseTime(s: string): Date {
  const d = new Date(s);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) ||
    Number.isNaN(d.getTime())
  ) {
    throw new KeywardError(
      "ERR_USAGE",
      `--at ${s}: not an ISO-8601 time with a zone (e.g. 2025-07-01T00:00:00Z)`,
    );
  }
  return d;
}
