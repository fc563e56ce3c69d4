/**
 * The attested key bundle: what an enclave writes beside its sealed private key, and what the
 * cloud registers. JSON, version 1:
 *
 * ```json
 * { "type": "keyward-attested-key", "version": 1,
 *   "purpose": "iot-readings", "generation": 1, "algorithm": "ES256",
 *   "publicKey": "<base64 SubjectPublicKeyInfo DER>",   (algorithm ES256 | ECDH-ES+A256KW | RSA-OAEP-256)
 *   "keyId": "<hex SHA-256 of the SPKI>",
 *   "evidence": { "format": "sgx-dcap", "quote": "<base64 quote>" },
 *     (or { "format": "oe-custom-claims", "quote", "customClaims": "<base64 OE claims buffer>" })
 *   "collateral": "<the collateral JSON text, exactly as fetched>",   (optional)
 *   "createdAt": "2026-11-29T22:00:00.000Z" }                          (optional, not bound)
 * ```
 *
 * Only `purpose`, `generation` and `publicKey` are bound by the evidence (binding.ts); `keyId` is
 * derived and must agree; the collateral is signed by itself. Every other field is refused, so an
 * unexpected field never rides along unverified.
 *
 * @module
 */
import { toHex } from "../bytes/hex.ts";
import { sha256 } from "../crypto/digest.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { isKeyPurpose } from "./binding.ts";

/**
 * The evidence formats a bundle may carry: a DCAP quote whose report data is Keyward's key binding
 * (binding.ts), or Open Enclave's SGX evidence with custom claims (oe-claims.ts): the quote, and
 * the serialized claims buffer whose SHA-256 is its report data.
 */
export type KeyEvidenceFormat = "sgx-dcap" | "tdx-dcap" | "oe-custom-claims";

/** What a key is for: ES256 signatures, JWE key agreement (P-256), or JWE RSA-OAEP-256 (RSA-3072). */
export type KeyAlgorithm = "ES256" | "ECDH-ES+A256KW" | "RSA-OAEP-256";

/** The key algorithms, for flag validation. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["ES256", "ECDH-ES+A256KW", "RSA-OAEP-256"];

/** A parsed bundle. Nothing in it is verified yet: see verifyKeyBundle. */
export interface KeyBundle {
  readonly purpose: string;
  readonly generation: number;
  readonly algorithm: KeyAlgorithm;
  /** SubjectPublicKeyInfo, DER, as carried. */
  readonly publicKey: Uint8Array;
  /** SHA-256 of `publicKey` (32 bytes). */
  readonly keyId: Uint8Array;
  readonly evidence: {
    readonly format: KeyEvidenceFormat;
    readonly quote: Uint8Array;
    /** The serialized OE custom claims (format `oe-custom-claims` only). */
    readonly customClaims?: Uint8Array;
  };
  /** The collateral JSON text, when the attester had it. */
  readonly collateral?: string;
  readonly createdAt?: string;
}

const MAX_BUNDLE = 1 << 20;
const FIELDS = new Set([
  "type",
  "version",
  "purpose",
  "generation",
  "algorithm",
  "publicKey",
  "keyId",
  "evidence",
  "collateral",
  "createdAt",
]);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses a bundle's JSON text, checking its shape only (not the key, not the evidence).
 * @throws ERR_SIGNER_BUNDLE_INVALID naming the first field at fault
 */
export function parseKeyBundle(text: string): KeyBundle {
  if (text.length > MAX_BUNDLE) invalid(`larger than ${MAX_BUNDLE} characters`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return invalid("not JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return invalid("not a JSON object");
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) invalid(`unknown field ${JSON.stringify(k)}`);
  if (o.type !== "keyward-attested-key") invalid('type must be "keyward-attested-key"');
  if (o.version !== 1) invalid("version must be 1");
  if (typeof o.purpose !== "string" || !isKeyPurpose(o.purpose))
    invalid("purpose must be 1-64 characters of [a-z0-9._-]");
  if (
    typeof o.generation !== "number" ||
    !Number.isInteger(o.generation) ||
    o.generation < 1 ||
    o.generation > 0xffffffff
  )
    invalid("generation must be an integer from 1 to 2^32-1");
  const algorithm = KEY_ALGORITHMS.find((a) => a === o.algorithm);
  if (algorithm === undefined) return invalid(`algorithm must be one of ${KEY_ALGORITHMS.join(", ")}`);
  const publicKey = base64Field(o.publicKey, "publicKey", 4096);
  const keyId = sha256(publicKey);
  if (o.keyId !== undefined && o.keyId !== toHex(keyId)) invalid("keyId is not the SHA-256 of publicKey");
  const e = o.evidence;
  if (typeof e !== "object" || e === null || Array.isArray(e)) return invalid("evidence must be an object");
  const ev = e as Record<string, unknown>;
  for (const k of Object.keys(ev))
    if (k !== "format" && k !== "quote" && k !== "customClaims") invalid(`unknown field evidence.${k}`);
  if (ev.format !== "sgx-dcap" && ev.format !== "tdx-dcap" && ev.format !== "oe-custom-claims")
    invalid('evidence.format must be "sgx-dcap", "tdx-dcap" or "oe-custom-claims"');
  const quote = base64Field(ev.quote, "evidence.quote", 64 * 1024);
  const oe = ev.format === "oe-custom-claims";
  if (oe !== (ev.customClaims !== undefined))
    invalid("evidence.customClaims is present exactly when evidence.format is oe-custom-claims");
  const customClaims = oe ? base64Field(ev.customClaims, "evidence.customClaims", 64 * 1024) : undefined;
  if (o.collateral !== undefined && typeof o.collateral !== "string")
    invalid("collateral must be a JSON text");
  if (o.createdAt !== undefined && (typeof o.createdAt !== "string" || Number.isNaN(Date.parse(o.createdAt))))
    invalid("createdAt must be an ISO-8601 time");
  return {
    purpose: o.purpose as string,
    generation: o.generation as number,
    algorithm,
    publicKey,
    keyId,
    evidence: {
      format: ev.format as KeyEvidenceFormat,
      quote,
      ...(customClaims === undefined ? {} : { customClaims }),
    },
    ...(o.collateral === undefined ? {} : { collateral: o.collateral as string }),
    ...(o.createdAt === undefined ? {} : { createdAt: o.createdAt as string }),
  };
}

/** The JSON text of a bundle (two-space indented, fields in the documented order). */
export function serializeKeyBundle(bundle: KeyBundle): string {
  const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
  return `${JSON.stringify(
    {
      type: "keyward-attested-key",
      version: 1,
      purpose: bundle.purpose,
      generation: bundle.generation,
      algorithm: bundle.algorithm,
      publicKey: b64(bundle.publicKey),
      keyId: toHex(bundle.keyId),
      evidence: {
        format: bundle.evidence.format,
        quote: b64(bundle.evidence.quote),
        ...(bundle.evidence.customClaims === undefined
          ? {}
          : { customClaims: b64(bundle.evidence.customClaims) }),
      },
      ...(bundle.collateral === undefined ? {} : { collateral: bundle.collateral }),
      ...(bundle.createdAt === undefined ? {} : { createdAt: bundle.createdAt }),
    },
    null,
    2,
  )}\n`;
}

function base64Field(v: unknown, name: string, maxBytes: number): Uint8Array {
  if (typeof v !== "string" || v.length === 0 || v.length % 4 !== 0 || !BASE64.test(v))
    invalid(`${name} must be base64 (RFC 4648 §4, padded)`);
  const bytes = new Uint8Array(Buffer.from(v as string, "base64"));
  if (bytes.byteLength > maxBytes) invalid(`${name} is larger than ${maxBytes} bytes`);
  // Canonical: the text must be the encoding of what it decodes to (no non-zero pad bits).
  if (Buffer.from(bytes).toString("base64") !== v) invalid(`${name} is not canonical base64`);
  return bytes;
}

function invalid(why: string): never {
  throw new KeywardError("ERR_SIGNER_BUNDLE_INVALID", `key bundle: ${why}`);
}
