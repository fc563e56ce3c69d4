/**
 * The local single-run marker `STATE/single_run/once`: created with O_EXCL before otpqr writes
 * anything, so a second run on this machine stops before it asks the service for anything, and
 * two runs racing each other cannot both pass. Its content is MAC'd (HMAC-SHA256) with a random
 * key sealed to otpqr's own identity (MRENCLAVE sealing policy), so an edited marker — another
 * account, another time, a key from another program — is detected: ERR_OTP_MARKER_TAMPERED.
 *
 * What it cannot do, said plainly (docs/otp.md): whoever controls the host can delete it, or put
 * back an older copy, and run otpqr again. The service's one-time enrollment ticket, consumed by
 * one conditional UPDATE, is what makes "once" hold; the marker catches accidents and edits early.
 *
 * File, one line of JSON:
 *   { "v": 1, "account", "server", "createdAt", "key": base64(sealed 32-byte key), "mac": hex }
 *   mac = HMAC-SHA256(key, "otpqr-marker-v1" ‖ 0x00 ‖ JSON.stringify([v, account, server, createdAt]))
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import type { Attester } from "@keyward/platform/enclave";
import { sealWith, unsealWith } from "@keyward/platform/enclave";

const DOMAIN = "otpqr-marker-v1";
const AAD = new TextEncoder().encode("otpqr single_run/once");
const MAX_MARKER = 4096;

/** Where the marker of state directory `stateDir` is. */
export function markerPath(stateDir: string): string {
  return join(stateDir, "single_run", "once");
}

/** What a marker records. */
export interface MarkerBody {
  readonly account: string;
  readonly server: string;
  readonly createdAt: string;
}

function macOf(key: Uint8Array, b: MarkerBody): Buffer {
  return createHmac("sha256", key)
    .update(`${DOMAIN}\u0000${JSON.stringify([1, b.account, b.server, b.createdAt])}`)
    .digest();
}

function tampered(why: string): never {
  throw new KeywardError(
    "ERR_OTP_MARKER_TAMPERED",
    `the single-run marker does not authenticate (${why}): it was edited, or made by another program`,
  );
}

/**
 * Reads and authenticates an existing marker.
 * @throws ERR_OTP_MARKER_TAMPERED
 */
export async function readMarker(attester: Attester, path: string): Promise<MarkerBody> {
  const fd = openSync(path, "r");
  let text: string;
  try {
    const buf = Buffer.alloc(MAX_MARKER + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_MARKER) tampered("larger than any marker");
    text = buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return tampered("not JSON");
  }
  const { v, account, server, createdAt, key, mac } = m;
  if (
    v !== 1 ||
    typeof account !== "string" ||
    typeof server !== "string" ||
    typeof createdAt !== "string" ||
    typeof key !== "string" ||
    typeof mac !== "string" ||
    !/^[0-9a-f]{64}$/.test(mac)
  )
    tampered("fields missing or of the wrong kind");
  let macKey: Uint8Array;
  try {
    macKey = await unsealWith(attester, new Uint8Array(Buffer.from(key, "base64")), { aad: AAD });
  } catch (e) {
    // A changed header byte can also claim a higher SVN than ours: edited just the same.
    if (
      e instanceof KeywardError &&
      (e.code === "ERR_SEALED_BLOB_INVALID" || e.code === "ERR_SEAL_SVN_TOO_HIGH")
    )
      tampered("its key does not unseal");
    throw e;
  }
  const body = { account, server, createdAt };
  const ok = timingSafeEqual(macOf(macKey, body), Buffer.from(mac, "hex"));
  macKey.fill(0);
  if (!ok) tampered("its MAC does not match");
  return body;
}

/**
 * Creates the marker with O_EXCL (0600), writes its authenticated body and makes it durable
 * (the file and its directory fsync'd) before returning.
 * @throws ERR_IO with detail.reason "EEXIST" when a marker exists already
 */
export async function createMarker(attester: Attester, path: string, body: MarkerBody): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new KeywardError("ERR_IO", `single-run marker ${path}: ${code}`, {
      cause: e,
      detail: { reason: code },
    });
  }
  try {
    const macKey = new Uint8Array(randomBytes(32));
    const sealed = await sealWith(attester, macKey, { policy: "mrenclave", aad: AAD });
    const line = JSON.stringify({
      v: 1,
      ...body,
      key: Buffer.from(sealed).toString("base64"),
      mac: macOf(macKey, body).toString("hex"),
    });
    macKey.fill(0);
    writeSync(fd, `${line}\n`);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(path);
    throw e;
  }
  closeSync(fd);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
