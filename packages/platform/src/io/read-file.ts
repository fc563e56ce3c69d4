/**
 * The one way Keyward reads a file: bounded, never blocking, regular files only.
 *
 * - The path may be a symbolic link to a regular file (Kubernetes mounts Secrets and ConfigMaps
 *   that way), so links are followed; what is refused is decided on what was opened.
 * - The file is opened with O_NONBLOCK (a FIFO without a writer would otherwise block the open
 *   forever) and O_NOCTTY (a terminal never becomes our controlling terminal). Anything that is not
 *   a regular file — a directory, a FIFO, a socket, a character or block device such as
 *   `/dev/zero` — is refused before a byte is read. `stat` is consulted before opening only so that
 *   a device is not even opened (opening some devices has effects); the decision that counts is
 *   `fstat` on the opened descriptor, so a path swapped between the two cannot slip through.
 * - A file larger than its limit is refused from `fstat`, and the read stops one byte past the
 *   limit, so a file that grows (or reports a size of 0, as /proc and sysfs files do) is bounded
 *   too.
 * - Every failure is `ERR_IO` (exit status 2 in the CLI) with the path, what the file was for, and
 *   a `reason` in its detail: the errno code (`ENOENT`, `EACCES`, `EIO`, …), `not-regular` or
 *   `too-large`.
 *
 * Devices that Keyward does use (a TPM) are opened by their own transports, never through here.
 *
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { KeywardError } from "@keyward/attest/errors";
import { INPUT_LIMITS, type InputKind } from "./limits.ts";

/** What is being read, for the limit and the messages. */
export interface ReadOptions {
  /** The kind of file: picks the limit from {@link INPUT_LIMITS}. */
  readonly kind: InputKind;
  /** What the file is for, in words ("quote", "collateral", "policy"); starts every message. */
  readonly what: string;
  /** A lower limit than the kind's, in bytes. */
  readonly maxBytes?: number;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const CHUNK = 1 << 20;

/**
 * The bytes of the regular file at `path`, at most its kind's limit.
 * @throws ERR_IO (detail: `path`, `reason`, and `limit` when too large)
 * @example readFileBounded("quote.bin", { kind: "evidence", what: "quote" })
 */
export function readFileBounded(path: string, options: ReadOptions): Uint8Array {
  const limit = limitOf(options);
  const fd = openChecked(path, options, limit);
  try {
    let buf: Uint8Array = new Uint8Array(initialSize(fstatSync(fd).size, limit));
    let n = 0;
    for (;;) {
      if (n === buf.byteLength) {
        if (n > limit) throw tooLarge(path, options, limit);
        buf = grow(buf, limit);
      }
      const r = readSync(fd, buf, n, buf.byteLength - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > limit) throw tooLarge(path, options, limit);
    return buf.subarray(0, n);
  } catch (cause) {
    throw asIoError(cause, path, options);
  } finally {
    closeSync(fd);
  }
}

/**
 * The text of `path`, strict UTF-8 (a leading byte-order mark is dropped).
 * @throws ERR_IO, also when the bytes are not UTF-8
 */
export function readTextBounded(path: string, options: ReadOptions): string {
  return decode(readFileBounded(path, options), path, options);
}

/**
 * Like {@link readFileBounded}, off the event loop: for services, where a slow disk must not stall
 * other requests.
 * @throws ERR_IO
 */
export async function readFileBoundedAsync(path: string, options: ReadOptions): Promise<Uint8Array> {
  const limit = limitOf(options);
  let fh: FileHandle;
  try {
    checkStats(await stat(path), path, options, limit);
    fh = await open(path, OPEN_FLAGS);
  } catch (cause) {
    throw asIoError(cause, path, options);
  }
  try {
    const st = await fh.stat();
    checkStats(st, path, options, limit);
    let buf: Uint8Array = new Uint8Array(initialSize(st.size, limit));
    let n = 0;
    for (;;) {
      if (n === buf.byteLength) {
        if (n > limit) throw tooLarge(path, options, limit);
        buf = grow(buf, limit);
      }
      const { bytesRead } = await fh.read(buf, n, buf.byteLength - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > limit) throw tooLarge(path, options, limit);
    return buf.subarray(0, n);
  } catch (cause) {
    throw asIoError(cause, path, options);
  } finally {
    await fh.close();
  }
}

/** Like {@link readTextBounded}, off the event loop. @throws ERR_IO */
export async function readTextBoundedAsync(path: string, options: ReadOptions): Promise<string> {
  return decode(await readFileBoundedAsync(path, options), path, options);
}

/**
 * Streams the file through `onChunk` in pieces of at most 1 MiB (memory stays constant whatever
 * the limit), and returns the number of bytes read. For hashing large trusted files.
 * @throws ERR_IO
 */
export function readFileChunks(
  path: string,
  options: ReadOptions,
  onChunk: (chunk: Uint8Array) => void,
): number {
  const limit = limitOf(options);
  const fd = openChecked(path, options, limit);
  try {
    const buf = new Uint8Array(Math.min(CHUNK, limit + 1));
    let total = 0;
    for (;;) {
      const r = readSync(fd, buf, 0, buf.byteLength, null);
      if (r === 0) return total;
      total += r;
      if (total > limit) throw tooLarge(path, options, limit);
      onChunk(buf.subarray(0, r));
    }
  } catch (cause) {
    throw asIoError(cause, path, options);
  } finally {
    closeSync(fd);
  }
}

function limitOf(options: ReadOptions): number {
  const kindLimit = INPUT_LIMITS[options.kind];
  return options.maxBytes === undefined ? kindLimit : Math.min(options.maxBytes, kindLimit);
}

// Opens `path` after refusing what is visibly not a regular file, and checks again on the descriptor.
function openChecked(path: string, options: ReadOptions, limit: number): number {
  let fd: number;
  try {
    checkStats(statSync(path), path, options, limit);
    fd = openSync(path, OPEN_FLAGS);
  } catch (cause) {
    throw asIoError(cause, path, options);
  }
  try {
    checkStats(fstatSync(fd), path, options, limit);
    return fd;
  } catch (cause) {
    closeSync(fd);
    throw asIoError(cause, path, options);
  }
}

function checkStats(st: Stats, path: string, options: ReadOptions, limit: number): void {
  if (!st.isFile()) {
    throw new KeywardError("ERR_IO", `${options.what} ${path}: ${typeOf(st)}, not a regular file`, {
      detail: { path, reason: "not-regular", type: typeOf(st) },
    });
  }
  if (st.size > limit) throw tooLarge(path, options, limit);
}

function typeOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "not a regular file";
}

function tooLarge(path: string, options: ReadOptions, limit: number): KeywardError {
  return new KeywardError("ERR_IO", `${options.what} ${path}: larger than the ${limit}-byte limit`, {
    detail: { path, reason: "too-large", limit },
  });
}

// Sizes of 0 are common for files that are not what they seem (/proc, sysfs): start small then.
function initialSize(size: number, limit: number): number {
  return Math.min(Math.max(size + 1, 4096), limit + 1);
}

// Grows to at most limit + 1 (one byte past the limit proves "too large"); the old buffer is
// wiped, since key files pass through here.
function grow(buf: Uint8Array, limit: number): Uint8Array {
  const next = new Uint8Array(Math.min(buf.byteLength * 2, limit + 1));
  next.set(buf);
  buf.fill(0);
  return next;
}

function decode(bytes: Uint8Array, path: string, options: ReadOptions): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new KeywardError("ERR_IO", `${options.what} ${path}: not UTF-8 text`, {
      cause,
      detail: { path, reason: "not-utf8" },
    });
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  ENOTDIR: "a component of the path is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  ENXIO: "a socket or a device without a driver, not a regular file",
  EISDIR: "a directory, not a regular file",
  EIO: "input/output error",
  EAGAIN: "would block: not a regular file",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
};

/** Maps any failure of a read to ERR_IO; a KeywardError passes through unchanged. */
function asIoError(cause: unknown, path: string, options: ReadOptions): KeywardError {
  if (cause instanceof KeywardError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? "EIO";
  const words = REASONS[code] ?? `cannot be read (${code})`;
  return new KeywardError("ERR_IO", `${options.what} ${path}: ${words}`, {
    cause,
    detail: { path, reason: code },
  });
}
