/**
 * JWE (RFC 7516) encryption of a released value to a workload's public key, given as a JWK:
 *
 * - EC keys (P-256, P-384, P-521): `ECDH-ES+A256KW` (RFC 7518 §4.6: ECDH with a fresh service key,
 *   Concat KDF over SHA-256 with empty PartyUInfo/PartyVInfo, AES-256 Key Wrap of the CEK);
 * - RSA keys (≥ 2048 bits): `RSA-OAEP-256` (RFC 7518 §4.3);
 * - content: `A256GCM` with a fresh 256-bit CEK and 96-bit IV; AAD = ASCII(BASE64URL(protected)).
 *
 * Why not a JOSE library for the encryption: the Confidential Containers KBS client does not use
 * the `protected` string it received as the AAD — it parses the header and serializes it again
 * (kbs-types `ProtectedHeader::generate_aad`, serde_json: `alg`, `enc`, then the other members in
 * key order). A header whose bytes are anything but that serialization fails its tag check, so the
 * header is written here in exactly that form, which is also the sorted (RFC 8785) form:
 * `{"alg":…,"enc":…,"epk":{"crv":…,"kty":"EC","x":…,"y":…}}`. Decryption stays standard: the tests
 * decrypt with `jose` and with a kbs-types-style AAD.
 *
 * @module
 */
import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";

/** A JWE in the flattened JSON serialization (RFC 7516 §7.2.2), as the KBS protocol sends it. */
export interface FlattenedJwe {
  readonly protected: string;
  readonly encrypted_key: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

/** A recipient's public JWK (RFC 7517): EC (`crv`, `x`, `y`) or RSA (`n`, `e`); `alg` optional. */
export interface RecipientJwk {
  readonly kty: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
  readonly alg?: string;
}

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");
const CURVES: Readonly<Record<string, number>> = { "P-256": 32, "P-384": 48, "P-521": 66 };
const KW_IV = Buffer.from("a6a6a6a6a6a6a6a6", "hex");

/** The key-management algorithm a JWK gets: `ECDH-ES+A256KW` or `RSA-OAEP-256`. */
export type JweAlgorithm = "ECDH-ES+A256KW" | "RSA-OAEP-256";

/**
 * Checks a recipient JWK and returns its key and algorithm.
 * @throws ERR_KEY_INVALID (unsupported type, curve, size or `alg`, a point not on the curve)
 */
export function recipientKey(jwk: RecipientJwk): { key: KeyObject; alg: JweAlgorithm } {
  const str = (v: unknown) => typeof v === "string" && /^[A-Za-z0-9_-]+$/.test(v);
  if (jwk.kty === "EC") {
    const size = typeof jwk.crv === "string" ? CURVES[jwk.crv] : undefined;
    if (size === undefined || !str(jwk.x) || !str(jwk.y))
      throw new KeywardError("ERR_KEY_INVALID", "an EC key must be P-256, P-384 or P-521 with x and y");
    if (jwk.alg !== undefined && jwk.alg !== "ECDH-ES+A256KW")
      throw new KeywardError("ERR_KEY_INVALID", `an EC key is used with ECDH-ES+A256KW, not ${jwk.alg}`);
    const x = Buffer.from(jwk.x as string, "base64url");
    const y = Buffer.from(jwk.y as string, "base64url");
    if (x.length !== size || y.length !== size)
      throw new KeywardError("ERR_KEY_INVALID", `${jwk.crv} coordinates are ${size} bytes`);
    return { key: importKey({ kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y }), alg: "ECDH-ES+A256KW" };
  }
  if (jwk.kty === "RSA") {
    if (!str(jwk.n) || !str(jwk.e)) throw new KeywardError("ERR_KEY_INVALID", "an RSA key needs n and e");
    if (jwk.alg !== undefined && jwk.alg !== "RSA-OAEP-256")
      throw new KeywardError("ERR_KEY_INVALID", `an RSA key is used with RSA-OAEP-256, not ${jwk.alg}`);
    const key = importKey({ kty: "RSA", n: jwk.n, e: jwk.e });
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new KeywardError("ERR_KEY_INVALID", "an RSA key has at least 2048 bits");
    return { key, alg: "RSA-OAEP-256" };
  }
  throw new KeywardError("ERR_KEY_INVALID", "the key must be an EC or RSA JWK");
}

function importKey(jwk: Record<string, unknown>): KeyObject {
  try {
    return createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
  } catch (cause) {
    throw new KeywardError("ERR_KEY_INVALID", "the JWK is not a valid public key", { cause });
  }
}

// RFC 7518 §4.6.2: Concat KDF (NIST SP 800-56A) with SHA-256; 256 bits is one round.
function concatKdf(z: Uint8Array, algorithmId: string): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return createHash("sha256")
    .update(u32(1))
    .update(z)
    .update(u32(Buffer.byteLength(algorithmId)))
    .update(algorithmId)
    .update(u32(0)) // PartyUInfo: empty
    .update(u32(0)) // PartyVInfo: empty
    .update(u32(256))
    .digest();
}

const RESERVED = new Set(["alg", "enc", "epk", "zip", "crit", "apu", "apv", "iv", "tag", "p2s", "p2c"]);

/**
 * Encrypts `plaintext` to `recipient` as a flattened JWE. `header` adds private members to the
 * protected header (RFC 7516 §4.3), authenticated as the AAD; they follow `alg` and `enc` in key
 * order with `epk`, so the header stays in the sorted form above.
 * @throws ERR_KEY_INVALID when the JWK cannot be used; ERR_INTERNAL for a header member the
 *   JOSE registries reserve
 */
export function encryptJwe(
  recipient: RecipientJwk,
  plaintext: Uint8Array,
  header: Readonly<Record<string, string | number>> = {},
): FlattenedJwe {
  for (const k of Object.keys(header))
    if (RESERVED.has(k)) throw new KeywardError("ERR_INTERNAL", `the JWE header member ${k} is reserved`);
  const { key, alg } = recipientKey(recipient);
  const cek = randomBytes(32);
  let headerJson: string;
  let encryptedKey: Buffer;
  if (alg === "ECDH-ES+A256KW") {
    const crv = recipient.crv as string;
    const { privateKey, publicKey } = generateKeyPairSync("ec", {
      namedCurve: { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" }[crv] as string,
    });
    const epk = publicKey.export({ format: "jwk" });
    const kek = concatKdf(diffieHellman({ privateKey, publicKey: key }), alg);
    const wrap = createCipheriv("id-aes256-wrap", kek, KW_IV);
    encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
    kek.fill(0);
    headerJson = sortedHeader(alg, {
      ...memberJson(header),
      epk: `{"crv":"${crv}","kty":"EC","x":"${epk.x}","y":"${epk.y}"}`,
    });
  } else {
    encryptedKey = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, cek);
    headerJson = sortedHeader(alg, memberJson(header));
  }
  const protectedB64 = b64u(headerJson);
  const iv = randomBytes(12);
  const gcm = createCipheriv("aes-256-gcm", cek, iv);
  gcm.setAAD(Buffer.from(protectedB64, "ascii"));
  const ciphertext = Buffer.concat([gcm.update(plaintext), gcm.final()]);
  cek.fill(0);
  return {
    protected: protectedB64,
    encrypted_key: b64u(encryptedKey),
    iv: b64u(iv),
    ciphertext: b64u(ciphertext),
    tag: b64u(gcm.getAuthTag()),
  };
}

const memberJson = (h: Readonly<Record<string, string | number>>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, JSON.stringify(v)]));

// `alg`, `enc`, then the other members (values already JSON) in key order (UTF-16 code units, as
// RFC 8785; the same as byte order for the ASCII names used here).
function sortedHeader(alg: JweAlgorithm, members: Readonly<Record<string, string>>): string {
  const rest = Object.keys(members)
    .sort()
    .map((k) => `,${JSON.stringify(k)}:${members[k]}`)
    .join("");
  return `{"alg":"${alg}","enc":"A256GCM"${rest}}`;
}

/** The compact serialization (RFC 7516 §7.1) of a flattened JWE. */
export function compactJwe(jwe: FlattenedJwe): string {
  return [jwe.protected, jwe.encrypted_key, jwe.iv, jwe.ciphertext, jwe.tag].join(".");
}
