/**
 * COSE_Sign1 with ES256 (RFC 9052 §4.2, §4.4; RFC 9053 §2.1), over the library's strict CBOR.
 *
 *   COSE_Sign1 = #6.18([ protected: bstr .cbor { 1 (alg): -7 (ES256), 4 (kid): bstr },
 *                        unprotected: {}, payload: bstr / nil, signature: bstr (r ‖ s, 64) ])
 *   Sig_structure = [ "Signature1", protected (as received), external_aad: bstr, payload ]
 *
 * The algorithm is read from the protected header only and must be ES256: a message cannot pick
 * a weaker algorithm for itself (RFC 9052 §3.1 "alg" should be protected). The kid, when present,
 * must name the key it is checked against.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { bytesEqual } from "../bytes/equal.ts";
import { type CborValue, decodeCbor, encodeCbor, isCborTag } from "../cbor/cbor.ts";
import { verifyP256 } from "../crypto/p256.ts";
import { KeywardError } from "../errors/keyward-error.ts";

/** CBOR tag of COSE_Sign1 (RFC 9052 §2). */
export const COSE_SIGN1_TAG = 18;
/** COSE header labels and the ES256 algorithm id (RFC 9052 §3.1, RFC 9053 §2.1). */
const ALG = 1;
const KID = 4;
const ES256 = -7;

/** A parsed COSE_Sign1, its protected header kept as received (it is signed). */
export interface CoseSign1 {
  readonly protectedBytes: Uint8Array;
  /** The key id of the protected (or unprotected) header, when present. */
  readonly kid?: Uint8Array;
  /** The payload, or undefined when detached (nil). */
  readonly payload?: Uint8Array;
  /** r ‖ s, 64 bytes. */
  readonly signature: Uint8Array;
}

/** The protected header Keyward writes: alg ES256 and the key id. */
export function coseProtectedHeader(kid: Uint8Array): Uint8Array {
  return encodeCbor(
    new Map<number, CborValue>([
      [ALG, ES256],
      [KID, kid],
    ]),
  );
}

/** The bytes ES256 signs: the Sig_structure of RFC 9052 §4.4, with empty external AAD. */
export function coseSign1ToBeSigned(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(["Signature1", protectedBytes, new Uint8Array(), payload]);
}

/** A tagged COSE_Sign1 with an attached payload and an empty unprotected header. */
export function encodeCoseSign1(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  signature: Uint8Array,
): Uint8Array {
  return encodeCbor({ tag: COSE_SIGN1_TAG, value: [protectedBytes, new Map(), payload, signature] });
}

/**
 * Parses a COSE_Sign1 (tagged 18, or untagged as RFC 9052 §2 allows when the type is known).
 * @throws ERR_SIGNER_SIGNATURE_MALFORMED
 */
export function parseCoseSign1(bytes: Uint8Array): CoseSign1 {
  let item: CborValue;
  try {
    item = decodeCbor(bytes);
  } catch (cause) {
    throw new KeywardError("ERR_SIGNER_SIGNATURE_MALFORMED", "COSE_Sign1: not CBOR", { cause });
  }
  if (isCborTag(item)) {
    if (item.tag !== COSE_SIGN1_TAG) malformed(`tag ${item.tag}, not 18 (COSE_Sign1)`);
    item = item.value;
  }
  if (!Array.isArray(item) || item.length !== 4) return malformed("not an array of four items");
  const [protectedBytes, unprotected, payload, signature] = item as readonly CborValue[];
  if (!(protectedBytes instanceof Uint8Array)) return malformed("the protected header is not a byte string");
  if (!(unprotected instanceof Map)) return malformed("the unprotected header is not a map");
  if (!(payload instanceof Uint8Array) && payload !== null)
    return malformed("the payload is neither bytes nor nil");
  if (!(signature instanceof Uint8Array)) return malformed("the signature is not a byte string");
  // RFC 9052 §3: a zero-length protected header stands for an empty map; then alg is missing.
  const header = protectedBytes.byteLength === 0 ? new Map() : decodeHeader(protectedBytes);
  const alg = header.get(ALG);
  if (alg !== ES256) malformed(`protected alg is ${String(alg)}, not ES256 (-7)`);
  if (unprotected.has(ALG)) malformed("alg appears in the unprotected header");
  // RFC 9052 §3: a label must not appear in both buckets.
  for (const k of unprotected.keys()) if (header.has(k)) malformed(`header label ${String(k)} appears twice`);
  const kid = header.get(KID) ?? unprotected.get(KID);
  if (kid !== undefined && !(kid instanceof Uint8Array)) malformed("kid is not a byte string");
  if (signature.byteLength !== 64) malformed(`an ES256 signature is 64 bytes, not ${signature.byteLength}`);
  return {
    protectedBytes,
    ...(kid === undefined ? {} : { kid: kid as Uint8Array }),
    ...(payload === null ? {} : { payload }),
    signature,
  };
}

/**
 * Verifies a COSE_Sign1 under `key` (whose id is `keyId`) and returns its payload. A detached
 * payload (nil) is taken from `detached`; an attached one must equal `detached` when both exist.
 * @throws ERR_SIGNER_SIGNATURE_MALFORMED, ERR_SIGNER_KEY_MISMATCH, ERR_SIGNER_SIGNATURE_INVALID
 */
export function verifyCoseSign1(
  bytes: Uint8Array,
  key: KeyObject,
  keyId: Uint8Array,
  detached?: Uint8Array,
): Uint8Array {
  const msg = parseCoseSign1(bytes);
  if (msg.kid !== undefined && !bytesEqual(msg.kid, keyId))
    throw new KeywardError("ERR_SIGNER_KEY_MISMATCH", "COSE_Sign1: kid names another key");
  const payload = msg.payload ?? detached;
  if (payload === undefined) return malformed("detached payload, and no data given");
  if (msg.payload !== undefined && detached !== undefined && !bytesEqual(msg.payload, detached))
    throw new KeywardError("ERR_SIGNER_SIGNATURE_INVALID", "COSE_Sign1: its payload is not these bytes");
  if (!verifyP256(key, coseSign1ToBeSigned(msg.protectedBytes, payload), msg.signature))
    throw new KeywardError("ERR_SIGNER_SIGNATURE_INVALID", "COSE_Sign1: the signature does not verify");
  return payload;
}

function decodeHeader(bytes: Uint8Array): ReadonlyMap<string | number, CborValue> {
  let h: CborValue;
  try {
    h = decodeCbor(bytes);
  } catch (cause) {
    throw new KeywardError("ERR_SIGNER_SIGNATURE_MALFORMED", "COSE_Sign1: protected header is not CBOR", {
      cause,
    });
  }
  if (!(h instanceof Map)) return malformed("the protected header is not a map");
  return h;
}

function malformed(why: string): never {
  throw new KeywardError("ERR_SIGNER_SIGNATURE_MALFORMED", `COSE_Sign1: ${why}`);
}
