export type { TpmKey } from "./client.ts";
export { describeRc, TPM_RH, TpmClient } from "./client.ts";
export type { ProvisionedTpm, Swtpm } from "./swtpm.ts";
export { provisionSwtpm, startSwtpm } from "./swtpm.ts";
export {
  akEccTemplate,
  akRsaTemplate,
  ekEccTemplate,
  ekRsaTemplate,
  unrestrictedSigningTemplate,
} from "./templates.ts";
export type { TpmTransport } from "./transport.ts";
export { openTpmTransport } from "./transport.ts";
export { pcrSelection, TpmWriter } from "./writer.ts";
