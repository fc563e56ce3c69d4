/**
 * The KMS feature: keys used inside the service (KeyManagementService) under the `keys` grant.
 * Key custody (generation, sealing, rotation) is the kernel's (kernel/keys.ts), shared with Admin.
 *
 * @module
 */
import type { Feature } from "../../kernel/feature.ts";
import { KEYS } from "./grants.ts";
import { kmsService } from "./service.ts";

export const kmsFeature: Feature = {
  name: "kms",
  grants: [KEYS],
  start: (ctx) => ({ services: [kmsService(ctx)] }),
};
