/**
 * Bounds on everything a licensing request carries, checked before any work (and before any
 * database statement, though every statement binds its values as parameters anyway). A refused
 * field is named; its value is never echoed (it may be a password, or hostile).
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";

const USER = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$/;
const ID = /^[0-9a-f]{32}$/;
/** NIST SP 800-63B §5.1.1.2: at least 8 characters, and at least 64 allowed; a ceiling bounds hashing work. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX_BYTES = 1024;
/** The enclave's certificate: ample for an EC or RSA-4096 certificate, bounded for the TPM path. */
export const CERTIFICATE_MAX_BYTES = 16 * 1024;

function invalid(field: string, why: string): KeywardError {
  return new KeywardError("ERR_LICENSING_INPUT_INVALID", `${field}: ${why}`, { detail: { field } });
}

/**
 * A user name: 1 to 128 characters of letters, digits and `_ . @ + -`, starting with a letter or digit.
 * @throws ERR_LICENSING_INPUT_INVALID
 */
export function userName(value: string, field = "user"): string {
  if (!USER.test(value))
    throw invalid(field, "1 to 128 of A-Z a-z 0-9 _ . @ + -, starting with a letter or digit");
  return value;
}

/**
 * A password: 8 characters to 1024 UTF-8 bytes (any characters).
 * @throws ERR_LICENSING_INPUT_INVALID
 */
export function password(value: string): string {
  if ([...value].length < PASSWORD_MIN) throw invalid("password", `at least ${PASSWORD_MIN} characters`);
  if (Buffer.byteLength(value, "utf8") > PASSWORD_MAX_BYTES)
    throw invalid("password", `at most ${PASSWORD_MAX_BYTES} bytes`);
  return value;
}

/**
 * A licence, enclave or launch id: 32 lower-case hex digits (128 random bits).
 * @throws ERR_LICENSING_INPUT_INVALID
 */
export function idOf(value: string, field: string): string {
  if (!ID.test(value)) throw invalid(field, "32 lower-case hex digits");
  return value;
}

/**
 * The client's nonce for a binding: 16 to 64 bytes.
 * @throws ERR_LICENSING_INPUT_INVALID
 */
export function nonceOf(value: Uint8Array): Uint8Array {
  if (value.byteLength < 16 || value.byteLength > 64) throw invalid("nonce", "16 to 64 bytes");
  return value;
}

/**
 * Bounded text (a product, an entitlement, an OTP account name).
 * @throws ERR_LICENSING_INPUT_INVALID
 */
export function token(value: string, field: string): string {
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(value)) throw invalid(field, "1 to 64 of A-Z a-z 0-9 _ . @ -");
  return value;
}

/** Bounds an opaque token string (refresh token) before it is hashed. @throws ERR_LICENSING_INPUT_INVALID */
export function opaque(value: string, field: string): string {
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) throw invalid(field, "43 base64url characters");
  return value;
}
