/**
 * `getSecrets`: one call that attests and returns the secrets a policy grants this workload.
 *
 * The path follows what the address offers: Keyward's service listener (mutual RA-TLS: the app's
 * RA-TLS certificate carries its quote; `SecretProvisioningService.GetSecrets`), or its challenge
 * listener, which answers that method UNIMPLEMENTED (then: Challenge → a quote whose report data
 * is SHA-256(nonce ‖ one-time P-256 key) → Attest → token → GetSecretsWithToken, each secret a
 * JWE to the one-time key, opened here and checked to name the secret and version it came as).
 * Either way the service's RA-TLS evidence is verified before anything is sent.
 *
 * @module
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { KeywardError } from "@keyward/attest/errors";
import type { VerifyCertificate } from "@keyward/channels/tls";
import { type Attester, openAttester } from "@keyward/platform/enclave";
import { ChallengeService, SecretProvisioningService } from "@keyward/proto/keyward/v1";
import { compactDecrypt } from "jose";
import { credentialOf, type ServerAddress, withConnection } from "./connection.ts";
import { asKeywardError } from "./errors.ts";
import { headersOf, type OneTimeCode } from "./otp.ts";
import { type RetryOptions, withRetry } from "./retry.ts";

/** Options of {@link getSecrets}. */
export interface GetSecretsOptions {
  /** The service's address (`host:port`): its service listener or its challenge listener. */
  readonly server: ServerAddress;
  /** The names to get; empty or absent: every secret the accepting policy grants. */
  readonly names?: readonly string[];
  /** Verifies the service's RA-TLS certificate ({@link serverTrust}). */
  readonly verifyServer: VerifyCertificate;
  /** This workload's evidence. Default: `openAttester()` (Gramine, configfs-tsm, the simulated launcher). */
  readonly attester?: Attester;
  /** `mutual` (RA-TLS), `challenge`, or `auto` (default): what the address offers. */
  readonly path?: "auto" | "mutual" | "challenge";
  /** A one-time code for a policy whose grant requires one (`otpRequired`): step-up. */
  readonly otp?: OneTimeCode;
  readonly retry?: RetryOptions;
}

/** What {@link getSecrets} returns: each secret's value by name, its version, and how it came. */
export interface Secrets {
  readonly values: Readonly<Record<string, Uint8Array>>;
  readonly versions: Readonly<Record<string, number>>;
  readonly policyId: string;
  readonly path: "mutual" | "challenge";
}

/**
 * Attests to the service and returns the secrets its policies grant this workload.
 * @throws KeywardError with the service's code (`ERR_SERVICE_DENIED`, `ERR_SERVICE_NOT_ATTESTED`,
 *   `ERR_OTP_REQUIRED`, …), the server verification's (`ERR_RATLS_*`, `ERR_DCAP_*`, …), or `ERR_IO`
 *   when the service could not be reached after the retries
 * @example const { values } = await getSecrets({ server: "kw:7443", names: ["db"], verifyServer })
 */
export async function getSecrets(options: GetSecretsOptions): Promise<Secrets> {
  const attester = options.attester ?? openAttester();
  const names = [...(options.names ?? [])];
  const path = options.path ?? "auto";
  try {
    return await withRetry(async () => {
      if (path !== "challenge") {
        try {
          const credential = await credentialOf(attester);
          return await withConnection(options.server, options.verifyServer, credential, (t) =>
            mutual(t, names, options.otp),
          );
        } catch (e) {
          // The challenge listener serves no SecretProvisioningService: take its path instead.
          if (!(path === "auto" && e instanceof ConnectError && e.code === Code.Unimplemented)) throw e;
        }
      }
      return await withConnection(options.server, options.verifyServer, undefined, (t) =>
        challenge(t, attester, names, options.otp),
      );
    }, options.retry);
  } catch (e) {
    throw asKeywardError(e);
  }
}

async function mutual(transport: Transport, names: string[], otp: OneTimeCode | undefined): Promise<Secrets> {
  const r = await createClient(SecretProvisioningService, transport).getSecrets({ names }, headersOf(otp));
  return {
    values: Object.fromEntries(r.secrets.map((s) => [s.name, s.value])),
    versions: Object.fromEntries(r.secrets.map((s) => [s.name, s.version])),
    policyId: r.policyId,
    path: "mutual",
  };
}

async function challenge(
  transport: Transport,
  attester: Attester,
  names: string[],
  otp: OneTimeCode | undefined,
): Promise<Secrets> {
  const client = createClient(ChallengeService, transport);
  const { nonce } = await client.challenge({});
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const point = new Uint8Array(
    Buffer.concat([
      Buffer.of(4),
      Buffer.from(jwk.x ?? "", "base64url"),
      Buffer.from(jwk.y ?? "", "base64url"),
    ]),
  );
  const reportData = new Uint8Array(64);
  reportData.set(createHash("sha256").update(nonce).update(point).digest());
  const { quote } = await attester.attest(reportData);
  const { token } = await client.attest({ nonce, quote, ephemeralPublicKey: point });
  const r = await client.getSecretsWithToken({ token, names }, headersOf(otp));
  const values: Record<string, Uint8Array> = {};
  const versions: Record<string, number> = {};
  for (const s of r.secrets) {
    const { plaintext, protectedHeader } = await compactDecrypt(s.jwe, privateKey, {
      keyManagementAlgorithms: ["ECDH-ES+A256KW"],
      contentEncryptionAlgorithms: ["A256GCM"],
    });
    // The protected header (authenticated) names what the value is: a value moved to another
    // name or version in the response is refused.
    if (protectedHeader.keyward_secret !== s.name || protectedHeader.keyward_version !== s.version)
      throw new KeywardError(
        "ERR_RATLS_BINDING_MISMATCH",
        `the JWE of ${s.name} names another secret or version`,
      );
    values[s.name] = plaintext;
    versions[s.name] = s.version;
  }
  return { values, versions, policyId: r.policyId, path: "challenge" };
}
