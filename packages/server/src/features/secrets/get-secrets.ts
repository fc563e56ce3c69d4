/**
 * `SecretProvisioningService.GetSecrets` over mutual RA-TLS: the caller is the verified evidence
 * of its client certificate; the release goes through the gate (limits, appraisal, the `secrets`
 * grant, the sources, the audit entry), and the plaintext leaves only inside the RA-TLS channel.
 *
 * @module
 */
import { SecretProvisioningService } from "@keyward/proto/keyward/v1";
import type { FeatureContext } from "../../kernel/feature.ts";
import { type RpcService, rpcService } from "../../kernel/rpc.ts";
import { callerOf } from "../../kernel/subject.ts";
import { releaseSecrets } from "./release.ts";

/** The GetSecrets service on the service listener. */
export function getSecretsService(ctx: FeatureContext): RpcService {
  return rpcService("service", SecretProvisioningService, {
    async getSecrets(req, call) {
      const caller = call.peer === undefined ? undefined : callerOf(call.peer.verified, "ra-tls");
      const r = await releaseSecrets(ctx, caller, req.names, call);
      return { policyId: r.policyId, secrets: [...r.result] };
    },
  });
}
