/**
 * A key directory, as `keyward signer keygen --out DIR` writes it:
 *
 *   DIR/key.sealed   the sealed private key (0600, created with O_EXCL)
 *   DIR/bundle.json  the attested key bundle (public)
 *   DIR/public.pem   the public key in PEM, for `openssl dgst -verify` (public; trust the bundle,
 *                    not this file: untrusted code wrote it)
 *
 * Every file is created exclusively: an existing key is never overwritten.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { serializeKeyBundle } from "@keyward/attest/signer";
import { readFileBounded } from "../io/read-file.ts";
import type { GeneratedKey } from "./key.ts";

/** The files of a key directory. */
export function keyDirFiles(dir: string): { sealed: string; bundle: string; publicPem: string } {
  return {
    sealed: join(dir, "key.sealed"),
    bundle: join(dir, "bundle.json"),
    publicPem: join(dir, "public.pem"),
  };
}

/**
 * Writes a generated key into `dir` (created 0700 when missing).
 * @throws ERR_IO when a file exists already or cannot be written
 */
export function writeKeyDir(dir: string, generated: GeneratedKey): void {
  const files = keyDirFiles(dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(files.sealed, generated.sealed, { flag: "wx", mode: 0o600 });
    writeFileSync(files.bundle, serializeKeyBundle(generated.bundle), { flag: "wx", mode: 0o644 });
    const b64 = Buffer.from(generated.key.spki)
      .toString("base64")
      .replace(/(.{64})/g, "$1\n");
    writeFileSync(
      files.publicPem,
      `-----BEGIN PUBLIC KEY-----\n${b64.trimEnd()}\n-----END PUBLIC KEY-----\n`,
      {
        flag: "wx",
        mode: 0o644,
      },
    );
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new KeywardError(
      "ERR_IO",
      code === "EEXIST"
        ? `${dir} already holds a key: choose a new directory`
        : `cannot write the key to ${dir}`,
      { cause },
    );
  }
}

/**
 * The sealed private key of the key directory `dir`.
 * @throws ERR_IO
 */
export function readSealedKey(dir: string): Uint8Array {
  return readFileBounded(keyDirFiles(dir).sealed, { kind: "key", what: "sealed signing key" });
}
