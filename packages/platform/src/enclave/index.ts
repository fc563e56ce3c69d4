export type { Attester, Evidence, EvidenceKind, SealKeyRequest, SealPolicy } from "../attester/attester.ts";
export type { TsmFs } from "./configfs-tsm-attester.ts";
export { configfsTsmAttester } from "./configfs-tsm-attester.ts";
export { gramineAttester } from "./gramine-attester.ts";
export type { AttesterOptions } from "./sdk.ts";
export { attest, identity, openAttester, seal, unseal } from "./sdk.ts";
export type { SealOptions } from "./sealing.ts";
export { sealWith, unsealWith } from "./sealing.ts";
export { simulatedAttester } from "./simulated-attester.ts";
