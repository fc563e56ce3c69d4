export { collateralProviderFor } from "@keyward/channels/collateral";
export type { ConfigFlags, ServiceConfig } from "../config.ts";
export { loadServiceConfig } from "../config.ts";
export type { AdminDeps, AdminOperations, AdminStepUp, ExplainSubject, Explanation } from "./admin.ts";
export { adminOperations, adminRoutes, policyJson, startAdminService } from "./admin.ts";
export type { AdminClient } from "./admin-client.ts";
export { connectAdmin } from "./admin-client.ts";
export type {
  AdminClientCredentials,
  AdminInitOptions,
  AdminServerCredentials,
} from "./admin-credentials.ts";
export {
  addAdminClient,
  adminDir,
  adminSubject,
  initAdminCredentials,
  loadAdminClientCredentials,
  loadAdminServerCredentials,
} from "./admin-credentials.ts";
export type { AuditEntry, AuditEvent, ChainVerdict } from "./audit.ts";
export { entryHash, GENESIS_HASH, verifyChain } from "./audit.ts";
export type { ChallengeServiceOptions } from "./challenge.ts";
export { challengeReportData, ecdhEsOpen, ecdhEsSeal, startChallengeService } from "./challenge.ts";
export type { SealedSecret } from "./envelope.ts";
export {
  gcmOpen,
  gcmSeal,
  loadKeyFile,
  loadOrCreateKeyFile,
  openSecret,
  rewrapSecret,
  sealSecret,
  secretAad,
} from "./envelope.ts";
export { fromConnectError, toConnectError } from "./errors.ts";
export type { KeyAlgorithm } from "./kms.ts";
export { createOrRotateKey, KEY_ALGORITHMS, kmsOperations, registerKms } from "./kms.ts";
export { loadOrCreateSealedMasterKey } from "./master-key.ts";
export { Metrics, startOpsServer } from "./metrics.ts";
export type { PolicyEntry, PolicySet, PolicyWatcher } from "./policies.ts";
export { createPolicySet, loadPolicyDir, loadPolicyEntries, watchPolicyDir } from "./policies.ts";
export { rotateMasterKey } from "./rotation.ts";
export type { RunningKeyward, RunOptions } from "./run.ts";
export { createLogger, openStore, REDACT_PATHS, runService } from "./run.ts";
export type { KeywardServiceOptions, RunningService, ServiceLogger } from "./service.ts";
export { resolveGrant, startKeywardService, subjectOf } from "./service.ts";
export type { KeyMaterial, Store, StoredKey, StoredPolicy, StoredSecret } from "./store.ts";
export { checkSecretName, MIGRATIONS, openSqliteStore } from "./store.ts";
export type { PostgresStoreOptions } from "./store-postgres.ts";
export { openPostgresStore } from "./store-postgres.ts";
export {
  hardwareQuoteTrust,
  hardwareTrust,
  SIM_SERVICE_MEASUREMENT,
  simulatedServiceCredential,
  simulationQuoteTrust,
  simulationTrust,
} from "./trust.ts";
export { readVaultKv2 } from "./vault.ts";
