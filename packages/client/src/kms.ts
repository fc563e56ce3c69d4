/**
 * KMS operations with keys that never leave the service, over mutual RA-TLS: the workload's
 * evidence is its credential, a policy's `keys` grant says which operations it may perform, and a
 * policy may require a one-time code per operation (`otp`).
 *
 * @module
 */
import { createClient, type Transport } from "@connectrpc/connect";
import type { VerifyCertificate } from "@keyward/channels/tls";
import { type Attester, openAttester } from "@keyward/platform/enclave";
import { KeyManagementService } from "@keyward/proto/keyward/v1";
import { credentialOf, type ServerAddress, withConnection } from "./connection.ts";
import { asKeywardError } from "./errors.ts";
import { headersOf, type OneTimeCode } from "./otp.ts";
import { type RetryOptions, withRetry } from "./retry.ts";

/** Where and as whom a KMS call is made. */
export interface KmsCallOptions {
  /** The service listener's address (`host:port`). */
  readonly server: ServerAddress;
  readonly verifyServer: VerifyCertificate;
  readonly attester?: Attester;
  readonly otp?: OneTimeCode;
  readonly retry?: RetryOptions;
}

async function call<T>(
  options: KmsCallOptions,
  run: (client: ReturnType<typeof createClient<typeof KeyManagementService>>) => Promise<T>,
): Promise<T> {
  const attester = options.attester ?? openAttester();
  try {
    return await withRetry(async () => {
      const credential = await credentialOf(attester);
      return withConnection(options.server, options.verifyServer, credential, (t: Transport) =>
        run(createClient(KeyManagementService, t)),
      );
    }, options.retry);
  } catch (e) {
    throw asKeywardError(e);
  }
}

/** The KMS calls (see {@link kms}). */
export interface Kms {
  sign(
    options: KmsCallOptions & { keyId: string; message: Uint8Array },
  ): Promise<{ signature: Uint8Array; version: number }>;
  decrypt(
    options: KmsCallOptions & { keyId: string; ciphertext: Uint8Array; aad?: Uint8Array },
  ): Promise<Uint8Array>;
  encrypt(
    options: KmsCallOptions & { keyId: string; plaintext: Uint8Array; aad?: Uint8Array },
  ): Promise<Uint8Array>;
  getPublicKey(
    options: KmsCallOptions & { keyId: string },
  ): Promise<{ algorithm: string; version: number; spki: Uint8Array }>;
}

/**
 * KMS operations: `sign` and `decrypt` (and `encrypt`, `getPublicKey`), each one call.
 * @throws KeywardError with the service's code (`ERR_SERVICE_DENIED`, `ERR_KMS_*`, `ERR_OTP_*`)
 *   or `ERR_IO`
 */
export const kms: Kms = {
  /**
   * Signs `message` with the key's current version (the key's algorithm: ECDSA P-256 / SHA-256,
   * Ed25519…). Returns the signature and the key version that made it.
   */
  async sign(options: KmsCallOptions & { keyId: string; message: Uint8Array }) {
    const r = await call(options, (c) =>
      c.sign({ keyId: options.keyId, message: options.message }, headersOf(options.otp)),
    );
    return { signature: r.signature, version: r.version };
  },
  /** Decrypts what `encrypt` made under the key (with the same `aad`, if any). */
  async decrypt(options: KmsCallOptions & { keyId: string; ciphertext: Uint8Array; aad?: Uint8Array }) {
    const r = await call(options, (c) =>
      c.decrypt(
        { keyId: options.keyId, ciphertext: options.ciphertext, aad: options.aad ?? new Uint8Array() },
        headersOf(options.otp),
      ),
    );
    return r.plaintext;
  },
  /** Encrypts `plaintext` under the key's current version (AES-256-GCM envelope). */
  async encrypt(options: KmsCallOptions & { keyId: string; plaintext: Uint8Array; aad?: Uint8Array }) {
    const r = await call(options, (c) =>
      c.encrypt(
        { keyId: options.keyId, plaintext: options.plaintext, aad: options.aad ?? new Uint8Array() },
        headersOf(options.otp),
      ),
    );
    return r.ciphertext;
  },
  /** The key's public key (SPKI DER) and algorithm. */
  async getPublicKey(options: KmsCallOptions & { keyId: string }) {
    const r = await call(options, (c) => c.getPublicKey({ keyId: options.keyId }, headersOf(options.otp)));
    return { algorithm: r.algorithm, version: r.version, spki: r.spki };
  },
};
