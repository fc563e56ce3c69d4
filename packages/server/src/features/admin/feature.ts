/**
 * The Admin feature: secrets, keys, stored policies, Explain and the audit log, on the admin
 * listener (mutual TLS with `keyward admin init` certificates), and the same operations for the
 * CLI's local mode.
 *
 * @module
 */
import type { Feature } from "../../kernel/feature.ts";
import { adminOperations } from "./operations.ts";
import { adminService } from "./service.ts";

export const adminFeature: Feature = {
  name: "admin",
  start: (ctx) => ({
    services: [
      adminService(
        adminOperations({
          store: ctx.store,
          masterKey: () => ctx.masterKey,
          policies: ctx.policies,
          verifyCertificate: ctx.trust.verifyPeer,
          verifyQuote: ctx.trust.verifyQuote,
          now: ctx.now,
        }),
        ctx.stepUp,
      ),
    ],
  }),
};
