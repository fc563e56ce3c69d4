/**
 * The device registry's gRPC services:
 *
 * - `DeviceRegistryService` on the challenge listener (one-way RA-TLS; the bundle authenticates
 *   the device's enclave). RegisterDevice verifies the bundle (evidence through the service's
 *   verifier, the key's binding) and then releases through the gate (action `signer.register`,
 *   the device as the one name, the caller the bundle's verified evidence, the `signerPurposes`
 *   grant); a bundle that does not verify is audited as denied before it reaches the gate.
 *   VerifyReadings checks a signature under the device's current key; each outcome is audited
 *   (`signer.verify`: device, key id, or the refusal's code; never the data).
 * - `DeviceRegistryAdminService` on the admin listener: RevokeDevice (after the admin step-up),
 *   ListDevices.
 *
 * @module
 */
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { type AttestedKey, parseKeyBundle, verifyKeyBundle } from "@keyward/attest/signer";
import { DeviceRegistryAdminService, DeviceRegistryService } from "@keyward/proto/keyward/v1";
import type { FeatureContext } from "../../kernel/feature.ts";
import { type Call, type RpcService, rpcService } from "../../kernel/rpc.ts";
import { callerOf } from "../../kernel/subject.ts";
import { grantPurpose } from "./grants.ts";
import { checkDeviceName, type DeviceRecord, type DeviceRegistry, signatureFormatOf } from "./registry.ts";

const MAX_BUNDLE = 1 << 20;

/** A device as the wire carries it. */
export function deviceMessage(d: DeviceRecord) {
  return {
    device: d.device,
    keyId: d.keyId,
    generation: d.generation,
    purpose: d.purpose,
    spki: d.spki,
    subject: d.subject,
    registeredAt: d.registeredAt,
    revoked: d.revoked,
    revokedAt: d.revokedAt ?? "",
  };
}

/** Both services. */
export function signerServices(ctx: FeatureContext, registry: DeviceRegistry): RpcService[] {
  const audit = (
    outcome: "ok" | "denied",
    action: string,
    subject: string,
    detail: Record<string, string | number>,
  ) => ctx.store.appendAudit({ action, outcome, subject, detail });
  const codeOf = (e: unknown) => (isKeywardError(e) ? e.code : "ERR_INTERNAL");

  const registryService = rpcService("challenge", DeviceRegistryService, {
    registerDevice: async (r, call) => {
      const device = checkDeviceName(r.device);
      let attested: AttestedKey;
      try {
        if (r.bundle.byteLength > MAX_BUNDLE)
          throw new KeywardError("ERR_SIGNER_BUNDLE_INVALID", `key bundle: larger than ${MAX_BUNDLE} bytes`);
        const bundle = parseKeyBundle(new TextDecoder("utf-8", { fatal: true }).decode(r.bundle));
        attested = await verifyKeyBundle(bundle, (quote) => ctx.trust.verifyQuote(quote, ctx.now()));
        if (attested.algorithm !== "ES256")
          throw new KeywardError(
            "ERR_SIGNER_KEY_INVALID",
            `a device key signs readings (ES256), not ${attested.algorithm}`,
          );
      } catch (e) {
        // Refused before the gate (no verified caller): audited here with the same fields.
        ctx.logger.warn({ event: "signer.register.refused", device, code: codeOf(e) }, "key bundle refused");
        await audit("denied", "signer.register", "anonymous", { via: "key-bundle", device, code: codeOf(e) });
        if (e instanceof TypeError)
          throw new KeywardError("ERR_SIGNER_BUNDLE_INVALID", "key bundle: not UTF-8 text");
        throw e;
      }
      const caller = callerOf(attested.verified, "key-bundle");
      const released = await ctx.gate.release({
        action: "signer.register",
        caller,
        names: [device],
        grant: grantPurpose(attested.purpose),
        act: (policy) => registry.register(device, attested, caller.subject, policy.id),
        origin: call,
      });
      return { device: deviceMessage(released.result), policyId: released.policyId };
    },
    verifyReadings: async (r, call) => {
      const device = checkDeviceName(r.device);
      const subject = `device:${device}`;
      try {
        const { record, payload } = await registry.verify(
          device,
          r.data,
          r.signature,
          signatureFormatOf(r.format),
        );
        await audit("ok", "signer.verify", subject, {
          device,
          keyId: record.keyId,
          generation: record.generation,
        });
        ctx.metrics.inc(
          "keyward_signer_verifications_total",
          { outcome: "verified" },
          "Readings verified by outcome.",
        );
        return { keyId: record.keyId, generation: record.generation, payload };
      } catch (e) {
        ctx.metrics.inc(
          "keyward_signer_verifications_total",
          { outcome: codeOf(e) },
          "Readings verified by outcome.",
        );
        ctx.logger.warn(
          { event: "signer.verify.refused", device, code: codeOf(e), client: call.clientAddress },
          "reading refused",
        );
        await audit("denied", "signer.verify", subject, { device, code: codeOf(e) });
        throw e;
      }
    },
  });

  const operator = (call: Call): string => {
    if (call.operator === undefined)
      throw new KeywardError("ERR_ADMIN_UNAUTHENTICATED", "no verified admin client certificate");
    return call.operator;
  };
  const admin = rpcService("admin", DeviceRegistryAdminService, {
    revokeDevice: async (r, call) => {
      const subject = operator(call);
      await ctx.stepUp({
        action: "signer.revoke",
        subject,
        headers: call.headers,
        clientAddress: call.clientAddress,
      });
      return deviceMessage(await registry.revoke(checkDeviceName(r.device), subject, r.reason.slice(0, 256)));
    },
    listDevices: async (_r, call) => {
      operator(call);
      return { devices: (await registry.list()).map(deviceMessage) };
    },
  });
  return [registryService, admin];
}
