/**
 * Open Enclave's custom claims (openenclave include/openenclave/attestation/custom_claims.h,
 * common/custom_claims.c): the serialized buffer an OE enclave passes to `oe_get_evidence`, whose
 * SHA-256 is the report data of its SGX quote. Little-endian, as OE writes it on x86-64:
 *
 *   oe_custom_claims_header_t  { u64 version = 1; u64 num_claims; }
 *   oe_custom_claims_entry_t[] { u64 name_size; u64 value_size; name[name_size]; value[value_size] }
 *
 * `name_size` covers the name's terminating NUL ("Must cover the '\0' at end of string").
 * Parsing is strict: version 1, every size bounded, names NUL-terminated without an interior NUL,
 * no name twice, nothing left over.
 *
 * @module
 */
import { ByteReader } from "../bytes/byte-reader.ts";
import { concatBytes } from "../bytes/equal.ts";
import { sha256 } from "../crypto/digest.ts";
import { KeywardError } from "../errors/keyward-error.ts";

/** OE_CUSTOM_CLAIMS_VERSION. */
export const OE_CUSTOM_CLAIMS_VERSION = 1;
const MAX_CLAIMS = 64;
const MAX_NAME = 256;
const MAX_VALUE = 64 * 1024;

/** One custom claim: a name (without its NUL) and its value bytes. */
export interface OeCustomClaim {
  readonly name: string;
  readonly value: Uint8Array;
}

/** The claim names Keyward writes for an attested key, after Open Enclave's attestation sample. */
export const OE_KEY_CLAIMS = {
  event: "Event",
  publicKeyHash: "Public key hash",
  generation: "Generation",
} as const;

/**
 * Serializes claims as `oe_serialize_custom_claims` does.
 * @throws ERR_INPUT_INVALID for a name or value out of range
 */
export function serializeOeCustomClaims(claims: readonly OeCustomClaim[]): Uint8Array {
  if (claims.length > MAX_CLAIMS)
    throw new KeywardError("ERR_INPUT_INVALID", `at most ${MAX_CLAIMS} custom claims`);
  const parts: Uint8Array[] = [u64le(OE_CUSTOM_CLAIMS_VERSION), u64le(claims.length)];
  for (const c of claims) {
    const name = new TextEncoder().encode(c.name);
    if (name.byteLength === 0 || name.byteLength >= MAX_NAME || name.includes(0))
      throw new KeywardError("ERR_INPUT_INVALID", "custom claim name: 1-255 bytes without NUL");
    if (c.value.byteLength > MAX_VALUE)
      throw new KeywardError("ERR_INPUT_INVALID", "custom claim value too large");
    parts.push(u64le(name.byteLength + 1), u64le(c.value.byteLength), name, Uint8Array.of(0), c.value);
  }
  return concatBytes(...parts);
}

/**
 * Parses a serialized custom-claims buffer.
 * @throws ERR_SIGNER_BUNDLE_INVALID naming what is wrong
 */
export function parseOeCustomClaims(bytes: Uint8Array): OeCustomClaim[] {
  const bad = (why: string): never => {
    throw new KeywardError("ERR_SIGNER_BUNDLE_INVALID", `OE custom claims: ${why}`);
  };
  try {
    const r = new ByteReader(bytes, "OE custom claims");
    const version = r.u64le();
    if (version !== BigInt(OE_CUSTOM_CLAIMS_VERSION)) bad(`version ${version}, not 1`);
    const count = r.u64le();
    if (count > BigInt(MAX_CLAIMS)) bad(`${count} claims, more than ${MAX_CLAIMS}`);
    const claims: OeCustomClaim[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < Number(count); i++) {
      const nameSize = r.u64le();
      const valueSize = r.u64le();
      if (nameSize < 2n || nameSize > BigInt(MAX_NAME)) bad(`claim ${i}: name size ${nameSize}`);
      if (valueSize > BigInt(MAX_VALUE)) bad(`claim ${i}: value size ${valueSize}`);
      const name = r.bytes(Number(nameSize));
      if (name[name.byteLength - 1] !== 0 || name.subarray(0, -1).includes(0))
        bad(`claim ${i}: the name is not one NUL-terminated string`);
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(name.subarray(0, -1));
      } catch {
        return bad(`claim ${i}: the name is not UTF-8`);
      }
      if (seen.has(text)) bad(`claim "${text}" appears twice`);
      seen.add(text);
      claims.push({ name: text, value: r.bytes(Number(valueSize)) });
    }
    r.end();
    return claims;
  } catch (e) {
    if (e instanceof KeywardError && e.code === "ERR_SIGNER_BUNDLE_INVALID") throw e;
    return bad(`truncated or trailing bytes (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** The report data OE binds a custom-claims buffer with: SHA-256 of the buffer, then 32 zero bytes. */
export function oeCustomClaimsReportData(buffer: Uint8Array): Uint8Array {
  return concatBytes(sha256(buffer), new Uint8Array(32));
}

function u64le(n: number): Uint8Array {
  const out = new Uint8Array(8);
  let v = n;
  for (let i = 0; i < 8; i++) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}
