/**
 * Public-area templates: the TCG EK Credential Profile's EK templates (L-1 RSA-2048, L-2 ECC
 * P-256, "low range") and attestation keys (restricted signing, ECC P-256/ECDSA-SHA256 and
 * RSA-2048/RSASSA-SHA256), as TPMT_PUBLIC bytes.
 *
 * @module
 */
import { fromHex } from "@keyward/attest/bytes";
import { TpmWriter } from "./writer.ts";

/** PolicySecret(TPM_RH_ENDORSEMENT): the EK's authPolicy in the TCG templates. */
const EK_POLICY = fromHex("837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");
/** fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt. */
const EK_ATTRIBUTES = 0x000300b2;

/** EK template L-1: RSA-2048, AES-128-CFB, SHA-256. */
export function ekRsaTemplate(): Uint8Array {
  return new TpmWriter()
    .u16(0x0001)
    .u16(0x000b)
    .u32(EK_ATTRIBUTES)
    .tpm2b(EK_POLICY)
    .u16(0x0006)
    .u16(128)
    .u16(0x0043) // AES-128-CFB
    .u16(0x0010) // scheme NULL
    .u16(2048)
    .u32(0)
    .tpm2b(new Uint8Array(256))
    .finish();
}

/** EK template L-2: ECC P-256, AES-128-CFB, SHA-256. */
export function ekEccTemplate(): Uint8Array {
  return new TpmWriter()
    .u16(0x0023)
    .u16(0x000b)
    .u32(EK_ATTRIBUTES)
    .tpm2b(EK_POLICY)
    .u16(0x0006)
    .u16(128)
    .u16(0x0043)
    .u16(0x0010) // scheme NULL
    .u16(0x0003) // NIST P-256
    .u16(0x0010) // kdf NULL
    .tpm2b(new Uint8Array(32))
    .tpm2b(new Uint8Array(32))
    .finish();
}

/** A restricted ECC P-256 signing key, ECDSA-SHA256; attributes 0x00050072 =
 * fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign. */
export function akEccTemplate(): Uint8Array {
  return fromHex("0023000b000500720000001000180" + "00b0003001000000000");
}

/** A restricted RSA-2048 signing key, RSASSA-SHA256. */
export function akRsaTemplate(): Uint8Array {
  return fromHex("0001000b00050072000000100014000b0800000000000000");
}

/**
 * An UNRESTRICTED ECC signing key: it signs any digest it is given, so a "quote" it signs proves
 * nothing. Only for tests that show verifiers must check the AK's attributes.
 */
export function unrestrictedSigningTemplate(): Uint8Array {
  return fromHex("0023000b000400720000001000180" + "00b0003001000000000");
}
