/**
 * The device registry (docs/signing.md): keys born in enclaves registered per device only when
 * their attested key bundle verifies, binds the key, and a policy accepts the enclave and grants
 * the key's purpose; readings verified against registered keys only; revocation; everything
 * audited.
 *
 * @module
 */
import type { Feature } from "../../kernel/feature.ts";
import { SIGNER_PURPOSES } from "./grants.ts";
import { SIGNER_MIGRATIONS } from "./migrations.ts";
import { deviceRegistry } from "./registry.ts";
import { signerServices } from "./service.ts";

export const signerFeature: Feature = {
  name: "signer",
  migrations: SIGNER_MIGRATIONS,
  grants: [SIGNER_PURPOSES],
  start: (ctx) => ({ services: signerServices(ctx, deviceRegistry(ctx.store, ctx.now)) }),
};
