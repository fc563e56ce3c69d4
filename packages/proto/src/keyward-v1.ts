/** The Keyward gRPC protocol, version 1 (generated code under gen/, committed; `npm run generate` remakes it). */

export type {
  AuditRecord,
  ExplainRequest,
  ExplainResponse,
  PolicyAppraisal,
  PolicyInfo,
} from "./gen/keyward/v1/admin_pb.ts";
export { AdminService, file_keyward_v1_admin } from "./gen/keyward/v1/admin_pb.ts";
export type {
  AttestRequest,
  AttestResponse,
  ChallengeRequest,
  ChallengeResponse,
  EncryptedSecret,
  GetSecretsWithTokenRequest,
  GetSecretsWithTokenResponse,
} from "./gen/keyward/v1/challenge_pb.ts";
export { ChallengeService, file_keyward_v1_challenge } from "./gen/keyward/v1/challenge_pb.ts";
export {
  DecryptRequestSchema,
  EncryptRequestSchema,
  file_keyward_v1_kms,
  GetPublicKeyRequestSchema,
  KeyManagementService,
  SignRequestSchema,
  SignResponseSchema,
  VerifyRequestSchema,
} from "./gen/keyward/v1/kms_pb.ts";
export type {
  Enclave,
  EnclaveBinding,
  Licence,
  TokenResponse,
} from "./gen/keyward/v1/licensing_pb.ts";
export {
  file_keyward_v1_licensing,
  Licensing,
  LicensingAdmin,
} from "./gen/keyward/v1/licensing_pb.ts";
export type {
  CreateOtpAccountRequest,
  EnrollOtpRequest,
  EnrollOtpResponse,
  ListOtpAccountsResponse,
  OtpAccount,
  VerifyOtpRequest,
  VerifyOtpResponse,
} from "./gen/keyward/v1/otp_pb.ts";
export { file_keyward_v1_otp, OtpAdminService, OtpEnrollmentService } from "./gen/keyward/v1/otp_pb.ts";
export type { WhoAmIRequest, WhoAmIResponse } from "./gen/keyward/v1/peer_identity_pb.ts";
export {
  file_keyward_v1_peer_identity,
  PeerIdentityService,
  WhoAmIRequestSchema,
  WhoAmIResponseSchema,
} from "./gen/keyward/v1/peer_identity_pb.ts";
export type {
  GetSecretsRequest,
  GetSecretsResponse,
  Secret,
} from "./gen/keyward/v1/secret_provisioning_pb.ts";
export {
  file_keyward_v1_secret_provisioning,
  GetSecretsRequestSchema,
  GetSecretsResponseSchema,
  SecretProvisioningService,
  SecretSchema,
} from "./gen/keyward/v1/secret_provisioning_pb.ts";
export type {
  Device,
  RegisterDeviceRequest,
  RegisterDeviceResponse,
  VerifyReadingsRequest,
  VerifyReadingsResponse,
} from "./gen/keyward/v1/signer_pb.ts";
export {
  DeviceRegistryAdminService,
  DeviceRegistryService,
  file_keyward_v1_signer,
} from "./gen/keyward/v1/signer_pb.ts";
