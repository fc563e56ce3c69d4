/**
 * The binding between an attested key and its evidence: the report data of the quote is
 *
 *   SHA-256( "keyward attested key v1" ‖ 0x00
 *            ‖ u8 len(purpose) ‖ purpose (ASCII)
 *            ‖ u32be generation
 *            ‖ u16be len(spki) ‖ spki (DER) )  ‖  32 zero bytes
 *
 * Domain-separated (no other Keyward structure starts with this label) and length-prefixed
 * (no two different triples share an encoding), so evidence made for one key, purpose or
 * generation never vouches for another. The encoding is the enclave's side of the contract: the
 * enclave computes it over the key it generated, before any untrusted code sees the key.
 *
 * @module
 */
import { concatBytes } from "../bytes/equal.ts";
import { sha256 } from "../crypto/digest.ts";
import { KeywardError } from "../errors/keyward-error.ts";

/** The label that starts every binding (domain separation). */
export const KEY_BINDING_LABEL = "keyward attested key v1";

/** What the evidence binds: the key, what it is for, and which rotation it is. */
export interface KeyBindingInput {
  /** SubjectPublicKeyInfo, DER (at most 65535 bytes). */
  readonly spki: Uint8Array;
  /** 1–64 characters of `[a-z0-9._-]`, e.g. `iot-readings`, `image-signing`. */
  readonly purpose: string;
  /** 1 for the first key, +1 at each rotation (u32). */
  readonly generation: number;
}

const PURPOSE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * True when `purpose` is an acceptable purpose name: 1–64 of `[a-z0-9._-]`, starting with a
 * letter or digit.
 */
export function isKeyPurpose(purpose: string): boolean {
  return PURPOSE.test(purpose);
}

/**
 * The 64 bytes of report data that bind `input` (layout in the module comment).
 * @throws ERR_INPUT_INVALID for a purpose, generation or SPKI out of range
 */
export function keyBindingReportData(input: KeyBindingInput): Uint8Array {
  const { spki, purpose, generation } = input;
  if (!isKeyPurpose(purpose))
    throw new KeywardError("ERR_INPUT_INVALID", "key purpose: 1-64 characters of [a-z0-9._-]");
  if (!Number.isInteger(generation) || generation < 1 || generation > 0xffffffff)
    throw new KeywardError("ERR_INPUT_INVALID", "key generation: an integer from 1 to 2^32-1");
  if (spki.byteLength === 0 || spki.byteLength > 0xffff)
    throw new KeywardError("ERR_INPUT_INVALID", "key binding: SPKI size out of range");
  const label = new TextEncoder().encode(KEY_BINDING_LABEL);
  const p = new TextEncoder().encode(purpose);
  const g = Uint8Array.of(
    generation >>> 24,
    (generation >>> 16) & 0xff,
    (generation >>> 8) & 0xff,
    generation & 0xff,
  );
  const digest = sha256(
    label,
    Uint8Array.of(0),
    Uint8Array.of(p.byteLength),
    p,
    g,
    Uint8Array.of(spki.byteLength >> 8, spki.byteLength & 0xff),
    spki,
  );
  return concatBytes(digest, new Uint8Array(32));
}
