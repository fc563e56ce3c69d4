/**
 * TPM2B_PUBLIC / TPMT_PUBLIC (Part 2 §12.2.4, §12.2.5) for RSA and ECC keys: parsed strictly into
 * a key, its Name (nameAlg ‖ H(TPMT_PUBLIC)) and, given its parent's, its qualified name.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { ByteReader } from "../../bytes/byte-reader.ts";
import { concatBytes } from "../../bytes/equal.ts";
import { digest } from "../../crypto/digest.ts";
import { ecPublicKeyFromPoint, rsaPublicKeyFromModulus } from "../../crypto/tpm-keys.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { TPM_ALG, TPM_ECC, TPM_HASHES } from "./constants.ts";

/** A parsed public area. */
export interface TpmPublic {
  /** The TPMT_PUBLIC bytes exactly as received (what the Name hashes). */
  readonly tpmt: Uint8Array;
  readonly type: "rsa" | "ecc";
  readonly nameAlg: number;
  readonly attributes: number;
  readonly authPolicy: Uint8Array;
  readonly symmetric: { readonly alg: number; readonly keyBits?: number; readonly mode?: number };
  readonly scheme: { readonly alg: number; readonly hash?: number };
  readonly curve?: number;
  readonly keyBits?: number;
  readonly exponent?: number;
  /** ECC: X and Y; RSA: the modulus. */
  readonly unique: { readonly x: Uint8Array; readonly y: Uint8Array } | { readonly n: Uint8Array };
  readonly key: KeyObject;
  /** nameAlg ‖ H_nameAlg(TPMT_PUBLIC). */
  readonly name: Uint8Array;
}

const MAX_PUBLIC = 1024;
const CURVES: Readonly<Record<number, { readonly crv: "P-256" | "P-384" | "P-521"; readonly size: number }>> =
  {
    [TPM_ECC.NIST_P256]: { crv: "P-256", size: 32 },
    [TPM_ECC.NIST_P384]: { crv: "P-384", size: 48 },
    [TPM_ECC.NIST_P521]: { crv: "P-521", size: 66 },
  };

/**
 * Parses a TPM2B_PUBLIC (u16 size, then TPMT_PUBLIC); the size must match and nothing may follow.
 * @throws ERR_TPM_PUBLIC_INVALID, ERR_BYTES_*
 */
export function parseTpm2bPublic(bytes: Uint8Array): TpmPublic {
  const r = new ByteReader(bytes, "TPM2B_PUBLIC");
  const tpmt = r.bytes(r.length(r.u16be(), MAX_PUBLIC, "TPM2B_PUBLIC.size"));
  r.end();
  return parseTpmtPublic(tpmt);
}

/**
 * Parses a TPMT_PUBLIC.
 * @throws ERR_TPM_PUBLIC_INVALID, ERR_BYTES_*
 */
export function parseTpmtPublic(tpmt: Uint8Array): TpmPublic {
  const r = new ByteReader(tpmt, "TPMT_PUBLIC");
  const typeAlg = r.u16be();
  const nameAlg = r.u16be();
  const hash = TPM_HASHES[nameAlg];
  if (hash === undefined) invalid(`nameAlg 0x${nameAlg.toString(16)} is not SHA-256/384/512`);
  const attributes = r.u32be();
  const authPolicy = r.bytes(r.length(r.u16be(), 64, "authPolicy"));
  const symmetric = readSymmetric(r);
  const schemeAlg = r.u16be();
  const scheme = schemeAlg === TPM_ALG.NULL ? { alg: schemeAlg } : { alg: schemeAlg, hash: r.u16be() };
  if (schemeAlg === TPM_ALG.ECDAA) r.u16be(); // count
  const name = concatBytes(Uint8Array.of(nameAlg >> 8, nameAlg & 0xff), digest(hash.name, tpmt));
  if (typeAlg === TPM_ALG.ECC) {
    const curve = r.u16be();
    const kdfAlg = r.u16be();
    if (kdfAlg !== TPM_ALG.NULL) r.u16be();
    const x = r.bytes(r.length(r.u16be(), 66, "unique.x"));
    const y = r.bytes(r.length(r.u16be(), 66, "unique.y"));
    r.end();
    const c = CURVES[curve];
    if (c === undefined) invalid(`ECC curve 0x${curve.toString(16)}`);
    return {
      tpmt,
      type: "ecc",
      nameAlg,
      attributes,
      authPolicy,
      symmetric,
      scheme,
      curve,
      unique: { x, y },
      key: ecPublicKeyFromPoint(c.crv, c.size, x, y),
      name,
    };
  }
  if (typeAlg === TPM_ALG.RSA) {
    const keyBits = r.u16be();
    const exponent = r.u32be();
    const n = r.bytes(r.length(r.u16be(), 512, "unique.rsa"));
    r.end();
    if (n.byteLength * 8 !== keyBits)
      invalid(`RSA modulus of ${n.byteLength * 8} bits, keyBits says ${keyBits}`);
    return {
      tpmt,
      type: "rsa",
      nameAlg,
      attributes,
      authPolicy,
      symmetric,
      scheme,
      keyBits,
      exponent,
      unique: { n },
      key: rsaPublicKeyFromModulus(n, exponent === 0 ? 65537 : exponent),
      name,
    };
  }
  return invalid(`object type 0x${typeAlg.toString(16)} (only RSA and ECC keys)`);
}

/** QN(object) = nameAlg ‖ H(QN(parent) ‖ Name(object)); the QN of a hierarchy is its 4-byte handle. */
export function qualifiedName(parentQualifiedName: Uint8Array, pub: TpmPublic): Uint8Array {
  const hash = TPM_HASHES[pub.nameAlg];
  if (hash === undefined) invalid("nameAlg");
  return concatBytes(pub.name.subarray(0, 2), digest(hash.name, parentQualifiedName, pub.name));
}

function readSymmetric(r: ByteReader): TpmPublic["symmetric"] {
  const alg = r.u16be();
  if (alg === TPM_ALG.NULL) return { alg };
  return { alg, keyBits: r.u16be(), mode: r.u16be() };
}

function invalid(message: string): never {
  throw new KeywardError("ERR_TPM_PUBLIC_INVALID", `TPMT_PUBLIC: ${message}`);
}
