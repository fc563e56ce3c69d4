/**
 * `@keyward/client`: the one-call SDK for workloads in a TEE — `getSecrets` (mutual RA-TLS or the
 * challenge path, by what the address offers), `kms` (sign, decrypt, encrypt, public key), one-time
 * code step-up (`otp` on every call), `serverTrust` (what the app expects the service to be),
 * retries with backoff of transient failures. See docs/client.md.
 *
 * @module
 */
export { addressOf, type ServerAddress } from "./connection.ts";
export { type GetSecretsOptions, getSecrets, type Secrets } from "./get-secrets.ts";
export { type Kms, type KmsCallOptions, kms } from "./kms.ts";
export type { OneTimeCode } from "./otp.ts";
export { isTransient, type RetryOptions, withRetry } from "./retry.ts";
export { type ServerTrustOptions, serverTrust } from "./server-trust.ts";
