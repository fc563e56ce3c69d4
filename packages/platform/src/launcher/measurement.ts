/**
 * The simulated measurement, done by the launcher (playing the CPU), never by the app.
 *
 * MRENCLAVE = SHA-256 of this UTF-8 text, one line each, "\n"-terminated:
 *
 * ```
 * keyward-simulated-mrenclave v1
 * entrypoint <path>
 * argv <JSON array of strings>
 * env <JSON array of passed-through names, sorted>
 * file <sha256 hex of the content> <path>      (one per trusted file, sorted by path)
 * ```
 *
 * Paths are relative to the manifest, with "/" separators. The signer, ISVPRODID, ISVSVN and the
 * debug flag are not part of MRENCLAVE, as on SGX (they are in SIGSTRUCT and ATTRIBUTES), so
 * another signer changes MRSIGNER and not MRENCLAVE.
 *
 * MRSIGNER = SHA-256 of the signer's public key: for RSA, the modulus as little-endian bytes (what
 * SGX hashes, so an SGX signing key gives its real MRSIGNER); for other keys, the
 * SubjectPublicKeyInfo DER.
 *
 * @module
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { readFileBounded, readFileChunks } from "../io/read-file.ts";
import type { EnclaveManifest } from "./manifest.ts";

/** The measurement of a manifest and its trusted files. */
export interface Measurement {
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly debug: boolean;
  /** SHA-256 of each trusted file, by path. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The exact text MRENCLAVE hashes. */
  readonly canonical: string;
}

/**
 * Measures `manifest`: reads every trusted file once.
 * @throws ERR_IO, ERR_KEY_INVALID
 */
export function measure(manifest: EnclaveManifest): Measurement {
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.trustedFiles) files.set(f, hashTrusted(manifest, f));
  const lines = [
    "keyward-simulated-mrenclave v1",
    `entrypoint ${manifest.entrypoint}`,
    `argv ${JSON.stringify(manifest.argv)}`,
    `env ${JSON.stringify(manifest.envPassthrough)}`,
    ...manifest.trustedFiles.map(
      (f) => `file ${Buffer.from(files.get(f) ?? new Uint8Array()).toString("hex")} ${f}`,
    ),
  ];
  const canonical = `${lines.join("\n")}\n`;
  return {
    mrEnclave: sha256(new TextEncoder().encode(canonical)),
    mrSigner: mrSignerOf(readSigner(manifest.signer)),
    isvProdId: manifest.isvProdId,
    isvSvn: manifest.isvSvn,
    debug: manifest.debug,
    files,
    canonical,
  };
}

/** MRSIGNER of a public key (see the module comment). */
export function mrSignerOf(key: KeyObject): Uint8Array {
  if (key.asymmetricKeyType === "rsa") {
    const n = Buffer.from(key.export({ format: "jwk" }).n ?? "", "base64url");
    return sha256(Uint8Array.from(n).reverse());
  }
  return sha256(new Uint8Array(key.export({ type: "spki", format: "der" })));
}

/**
 * SHA-256 of a trusted file (for measuring, and again for loading), streamed through the bounded
 * reader: a trusted file may be a large binary, and must be a regular file.
 * @throws ERR_IO
 */
export function hashTrusted(manifest: EnclaveManifest, file: string): Uint8Array {
  const hash = createHash("sha256");
  readFileChunks(join(manifest.dir, file), { kind: "trustedFile", what: "trusted file" }, (chunk) =>
    hash.update(chunk),
  );
  return new Uint8Array(hash.digest());
}

function readSigner(path: string): KeyObject {
  const bytes = readFileBounded(path, { kind: "key", what: "signer key" });
  try {
    return createPublicKey(Buffer.from(bytes));
  } catch (cause) {
    throw new KeywardError("ERR_KEY_INVALID", `signer key ${path}: not a public (or private) key in PEM`, {
      cause,
    });
  }
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(b).digest());
}
