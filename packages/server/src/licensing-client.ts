/**
 * The licensing client (`@keyward/server/licensing-client`): the TypeScript API behind `keyward
 * license`, and its verification steps for callers that drive them one by one.
 *
 * @module
 */
export type {
  ClientAkTrust,
  LicensingClientOptions,
  LicensingSession,
  VerifiedConnection,
} from "./features/licensing/client/api.ts";
export { LicensingClient } from "./features/licensing/client/api.ts";
export { connectPinned } from "./features/licensing/client/pinned-connect.ts";
export type { AkTrust, BindingEvidence } from "./features/licensing/client/verify-binding.ts";
export {
  expectedExtraData,
  sha256,
  trustAk,
  verifyBinding,
} from "./features/licensing/client/verify-binding.ts";
