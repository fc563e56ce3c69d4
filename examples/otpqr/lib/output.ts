/**
 * The output file: created new (O_CREAT|O_EXCL, mode 0600) before the service is asked for the
 * secret, so an existing file is refused with nothing overwritten and the one-time ticket not
 * spent; filled and fsync'd only once the secret is here; removed again if the run fails.
 *
 * @module
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from "node:fs";
import { KeywardError } from "@keyward/attest/errors";

/** An output file being made. */
export interface OutputFile {
  readonly path: string;
  /** Writes `text`, fsyncs and closes. */
  commit(text: string): void;
  /** Closes and removes the (still empty) file. */
  discard(): void;
}

/**
 * Creates `path` new with mode 0600.
 * @throws ERR_IO (detail.reason "EEXIST" when it exists: nothing is overwritten)
 */
export function createOutput(path: string): OutputFile {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new KeywardError(
      "ERR_IO",
      code === "EEXIST" ? `${path} exists already: otpqr never overwrites a file` : `${path}: ${code}`,
      { cause: e, detail: { reason: code } },
    );
  }
  let open = true;
  return {
    path,
    commit(text) {
      writeSync(fd, text);
      fsyncSync(fd);
      closeSync(fd);
      open = false;
    },
    discard() {
      if (open) closeSync(fd);
      open = false;
      unlinkSync(path);
    },
  };
}
