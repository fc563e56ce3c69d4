/**
 * Administration for the CLI (`@keyward/server/admin`): the operator's client for the Admin
 * listener, the admin credentials, master-key rotation, and the same operations on a local store
 * (a stopped service, or bootstrap).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { collateralProviderFor } from "@keyward/channels/collateral";
import { loadSimPlatform } from "@keyward/platform/sim";
import { type AdminOperations, adminOperations } from "./features/admin/operations.ts";
import { rotateMasterKey as rotateAll } from "./features/admin/rotation.ts";
import { type LocalOtp, localOtp } from "./features/otp/local.ts";
import { loadOrCreateKeyFile } from "./kernel/envelope.ts";
import { openPolicyDocument } from "./kernel/policy-sealing.ts";
import { createPolicySet, loadPolicyEntries } from "./kernel/policy-set.ts";
import { hardwareQuoteTrust, hardwareTrust, simulationQuoteTrust, simulationTrust } from "./kernel/trust.ts";
import { FEATURES, openStore, POLICY_READER } from "./main.ts";
import type { ServiceConfig } from "./ops/config.ts";
import type { Store } from "./store/contract.ts";

export type { AuditEntry, ChainVerdict } from "./audit/chain.ts";
export { fromConnectError } from "./errors/connect.ts";
export { type AdminClient, connectAdmin } from "./features/admin/client.ts";
export {
  type AdminClientCredentials,
  type AdminInitOptions,
  type AdminServerCredentials,
  addAdminClient,
  adminDir,
  initAdminCredentials,
  loadAdminClientCredentials,
  loadAdminServerCredentials,
} from "./features/admin/credentials.ts";
export type { AdminOperations, ExplainSubject, Explanation } from "./features/admin/operations.ts";
export type { OtpAccount } from "./features/otp/accounts.ts";
export { connectOtpAdmin, type OtpAdminClient } from "./features/otp/client.ts";
export type { LocalOtp } from "./features/otp/local.ts";
export { loadKeyFile } from "./kernel/envelope.ts";
export { openStore } from "./main.ts";

/** The admin operations on the store the configuration names, without a running service. */
export interface LocalAdmin {
  readonly ops: AdminOperations;
  /** The OTP account operations and the verifier on this store (not stepped up: docs/otp.md). */
  readonly otp: LocalOtp;
  readonly store: Store;
  close(): Promise<void>;
}

/**
 * Opens the configured store for administration. The key file is read only by the operations
 * that seal, and created only when the service has none yet (bootstrap): a service whose master
 * key is sealed in its enclave is administered through its Admin listener. Explain with evidence
 * verifies it as the service would (the simulated root with `--simulation`, else Intel's root with
 * collateral from the PCS/PCCS).
 */
export async function openLocalAdmin(config: ServiceConfig): Promise<LocalAdmin> {
  const store = await openStore(config);
  let masterKey: Uint8Array | undefined;
  const key = () => {
    if (masterKey !== undefined) return masterKey;
    if (!existsSync(config.masterKeyFile) && existsSync(join(config.dataDir, "master.key.sealed")))
      throw new KeywardError(
        "ERR_SERVICE_MASTER_KEY",
        "this service's master key is sealed to its enclave: administer it through its Admin listener (--admin HOST:PORT)",
      );
    masterKey = loadOrCreateKeyFile(config.masterKeyFile);
    return masterKey;
  };
  // Held to the same configuration as the service (file: directories, the Vault address).
  const reader = POLICY_READER.confined(config.options);
  const entries = loadPolicyEntries(config.policyDir, reader);
  const policies = await createPolicySet({ entries: () => entries, close: () => undefined }, store, reader, {
    // Stored policies open with the master key: read only when there are stored policies.
    openDocument: (row) => openPolicyDocument(key(), row),
  });
  const trust = config.simulation
    ? (() => {
        const platform = loadSimPlatform(join(config.dataDir, "sim"));
        return { verifyCertificate: simulationTrust(platform), verifyQuote: simulationQuoteTrust(platform) };
      })()
    : (() => {
        const provider = collateralProviderFor(config.pccsUrl);
        return { verifyCertificate: hardwareTrust(provider), verifyQuote: hardwareQuoteTrust(provider) };
      })();
  return {
    ops: adminOperations({ store, masterKey: key, policies, ...trust }),
    otp: localOtp(store, key, config),
    store,
    async close() {
      policies.close();
      masterKey?.fill(0);
      await store.close();
    },
  };
}
export { createOrRotateKey, KEY_ALGORITHMS, type KeyAlgorithm } from "./kernel/keys.ts";

/**
 * Master-key rotation of a stopped service's store (features/admin/rotation.ts) with every
 * feature's own sealed rows (`Feature.reseal`): returns how many of each kind were re-sealed.
 * @throws ERR_SERVICE_SECRET_INTEGRITY when a row does not open under `oldKey` (nothing is changed)
 */
export function rotateMasterKey(
  store: Store,
  oldKey: Uint8Array,
  newKey: Uint8Array,
  subject: string,
): Promise<Readonly<Record<string, number>>> {
  return rotateAll(store, oldKey, newKey, subject, FEATURES);
}
