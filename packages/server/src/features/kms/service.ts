/**
 * `KeyManagementService` on the service listener: every operation is a release through the gate
 * (action `kms.<operation>`, the key id as the one name, the `keys` grant), so each call is
 * limited, appraised, granted per key and operation, and audited before it answers.
 *
 * @module
 */
import { KeyManagementService } from "@keyward/proto/keyward/v1";
import type { FeatureContext } from "../../kernel/feature.ts";
import { type Call, type RpcService, rpcService } from "../../kernel/rpc.ts";
import { callerOf } from "../../kernel/subject.ts";
import { grantKeyOperation, type KeyOperation } from "./grants.ts";
import { kmsOperations } from "./operations.ts";

/** The KeyManagementService on the service listener. */
export function kmsService(ctx: FeatureContext): RpcService {
  const ops = kmsOperations(ctx.store, ctx.masterKey);
  // The call is the request's origin: a one-time code the policy may require (`otpRequired`).
  const through = async <T>(call: Call, op: KeyOperation, keyId: string, act: () => Promise<T>) =>
    (
      await ctx.gate.release({
        action: `kms.${op}`,
        caller: call.peer === undefined ? undefined : callerOf(call.peer.verified, "ra-tls"),
        names: [keyId],
        grant: grantKeyOperation(op),
        act,
        origin: call,
      })
    ).result;
  return rpcService("service", KeyManagementService, {
    getPublicKey: (r, c) => through(c, "getPublicKey", r.keyId, () => ops.getPublicKey(r.keyId)),
    encrypt: (r, c) =>
      through(c, "encrypt", r.keyId, async () => ({
        ciphertext: await ops.encrypt(r.keyId, r.plaintext, r.aad),
      })),
    decrypt: (r, c) =>
      through(c, "decrypt", r.keyId, async () => ({
        plaintext: await ops.decrypt(r.keyId, r.ciphertext, r.aad),
      })),
    sign: (r, c) => through(c, "sign", r.keyId, () => ops.sign(r.keyId, r.message)),
    verify: (r, c) =>
      through(c, "verify", r.keyId, async () => ({
        valid: await ops.verify(r.keyId, r.message, r.signature, r.version === 0 ? undefined : r.version),
      })),
    wrap: (r, c) =>
      through(c, "wrap", r.keyId, async () => ({ wrapped: await ops.wrap(r.keyId, r.keyMaterial) })),
    unwrap: (r, c) =>
      through(c, "unwrap", r.keyId, async () => ({ keyMaterial: await ops.unwrap(r.keyId, r.wrapped) })),
  });
}
