/**
 * TPM 2.0 constants (TPM 2.0 Library, Part 2: Structures): algorithm IDs, object attributes,
 * structure tags.
 *
 * @module
 */

/** TPM_ALG_ID values we use. */
export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECDAA: 0x001a,
  ECC: 0x0023,
  CFB: 0x0043,
} as const;

/** TPM_ECC_CURVE values. */
export const TPM_ECC = { NIST_P256: 0x0003, NIST_P384: 0x0004, NIST_P521: 0x0005 } as const;

/** TPMA_OBJECT bits. */
export const TPMA_OBJECT = {
  fixedTPM: 1 << 1,
  stClear: 1 << 2,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  userWithAuth: 1 << 6,
  adminWithPolicy: 1 << 7,
  noDA: 1 << 10,
  encryptedDuplication: 1 << 11,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
} as const;

const AK_REQUIRED =
  TPMA_OBJECT.fixedTPM |
  TPMA_OBJECT.fixedParent |
  TPMA_OBJECT.sensitiveDataOrigin |
  TPMA_OBJECT.restricted |
  TPMA_OBJECT.sign;

/**
 * Whether `attributes` are those of an attestation key: a restricted signing key generated in its
 * TPM that can never leave it (fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign) and
 * cannot decrypt. Only such a key's quote says "the TPM attested this".
 */
export function hasAkAttributes(attributes: number): boolean {
  return (attributes & AK_REQUIRED) === AK_REQUIRED && (attributes & TPMA_OBJECT.decrypt) === 0;
}

/** TPM_GENERATED_VALUE: the magic of every TPMS_ATTEST the TPM makes. */
export const TPM_GENERATED_VALUE = 0xff544347;
/** TPM_ST_ATTEST_QUOTE. */
export const TPM_ST_ATTEST_QUOTE = 0x8018;

/** Hash algorithms we allow, with their node:crypto names and sizes. SHA-1 is not among them. */
export const TPM_HASHES: Readonly<
  Record<number, { readonly name: "sha256" | "sha384" | "sha512"; readonly size: number }>
> = {
  [TPM_ALG.SHA256]: { name: "sha256", size: 32 },
  [TPM_ALG.SHA384]: { name: "sha384", size: 48 },
  [TPM_ALG.SHA512]: { name: "sha512", size: 64 },
};

/** Bank names for PCR selections, as tpm2-tools writes them ("sha256:16,23"). */
export const TPM_BANKS: Readonly<Record<string, number>> = {
  sha1: TPM_ALG.SHA1,
  sha256: TPM_ALG.SHA256,
  sha384: TPM_ALG.SHA384,
  sha512: TPM_ALG.SHA512,
};
