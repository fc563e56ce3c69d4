/**
 * The Gramine feature: Gramine's secret-provisioning protocol (`libsecret_prov_attest.so`: RA-TLS
 * with the enclave's quote in its client certificate, then one framed secret) on a listener of
 * its own (`--gramine-secret-prov-listen`), so an unchanged Gramine app with
 * `SECRET_PROVISION_SERVERS` pointing here gets its secret. The client certificate is verified
 * with the service's trust (simulation or Intel's root with PCS/PCCS collateral); the secret is
 * released through the secrets feature's gate request (`secrets.get`, via `secret-prov`: limits,
 * appraisal, the `secrets` grant, the audit entry) and chosen by `gramineSecret` (grants.ts).
 *
 * The value is sent as Gramine's own servers send strings: ending in one NUL byte (appended when
 * it does not already end in one), which the client's constructor mode requires
 * (`SECRET_PROVISION_CONSTRUCTOR`, `SECRET_PROVISION_SET_KEY`). See docs/ratls.md.
 *
 * @module
 */
import { createGramineSecretProvisionServer } from "@keyward/channels/gramine";
import { createPeerVerifier } from "@keyward/channels/tls";
import type { Feature, FeatureContext, FeatureRuntime } from "../../kernel/feature.ts";
import { listenOn } from "../../kernel/listening.ts";
import { callerOf } from "../../kernel/subject.ts";
import { GRAMINE_SECRET, pickGramineSecret } from "./grants.ts";
import { SECRET_PROV_LISTEN, SECRET_PROV_OPTIONS, secretProvCredential } from "./options.ts";

/** The bytes sent for `value`: NUL-terminated, as `secret_prov_attest.c`'s constructor expects. */
export function nulTerminated(value: Uint8Array): Uint8Array {
  if (value.byteLength > 0 && value[value.byteLength - 1] === 0) return value;
  const out = new Uint8Array(value.byteLength + 1);
  out.set(value);
  return out;
}

function start(ctx: FeatureContext): FeatureRuntime {
  const listen = ctx.config.options.get(SECRET_PROV_LISTEN);
  if (listen === undefined) return {};
  const credential = secretProvCredential(ctx.config.options);
  const peerVerifier = createPeerVerifier({ verify: ctx.trust.verifyPeer });
  return {
    services: [
      {
        listener: "own",
        name: "gramineSecretProvPort",
        start: () =>
          listenOn(
            createGramineSecretProvisionServer({
              credential,
              peerVerifier,
              secretFor: async (peer) => {
                const released = await ctx.releaseSecrets({
                  caller: callerOf(peer.verified, "secret-prov"),
                  names: [],
                  pick: pickGramineSecret,
                });
                const [secret] = released.result;
                return secret === undefined ? undefined : nulTerminated(secret.value);
              },
              logger: {
                warn: (event) => ctx.logger.warn(event, "gramine secret provisioning refused"),
                info: (event) => ctx.logger.info(event, "gramine secret provisioned"),
              },
            }),
            listen,
          ),
      },
    ],
  };
}

export const gramineFeature: Feature = {
  name: "gramine",
  options: SECRET_PROV_OPTIONS,
  grants: [GRAMINE_SECRET],
  start,
};
