/**
 * The device registry (features/signer) over its real listeners: keys made by the platform's
 * keygen (generateAttestedKey) in simulated enclaves, registered with RegisterDevice over one-way
 * RA-TLS, readings verified with VerifyReadings, revocation on the Admin listener. The attacks:
 * a swapped key, a corrupted bundle, an old bundle replayed after rotation, a debug enclave, the
 * simulated platform under a policy that does not name it, an enclave whose policy grants no
 * purpose — each refused and audited, while authentic readings keep verifying.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { type KeyBundle, serializeKeyBundle } from "@keyward/attest/signer";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { type GeneratedKey, generateAttestedKey, signData } from "@keyward/platform/signer";
import { simulatedPlatformAttester } from "@keyward/platform/sim";
import { DeviceRegistryAdminService, DeviceRegistryService } from "@keyward/proto/keyward/v1";
import { verifyChain } from "../../src/audit/chain.ts";
import { loadAdminClientCredentials } from "../../src/features/admin/credentials.ts";
import { SIM_SERVICE_MEASUREMENT } from "../../src/kernel/trust.ts";
import { FEATURE_MIGRATIONS } from "../../src/main.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { hex, mr, seedPolicy } from "./helpers.ts";
import { codeOf, otpDataDir, startOtpReplica, TestClock } from "./otp-fixture.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const bundleBytes = (b: KeyBundle) => enc(serializeKeyBundle(b));

describe("device registry", () => {
  let env: Awaited<ReturnType<typeof otpDataDir>>;
  let replica: Awaited<ReturnType<typeof startOtpReplica>>;
  let registry: ReturnType<typeof createClient<typeof DeviceRegistryService>>;
  let admin: ReturnType<typeof createClient<typeof DeviceRegistryAdminService>>;
  const keygen = (m: number, generation = 1, debug = false): Promise<GeneratedKey> =>
    generateAttestedKey(
      simulatedPlatformAttester(env.platform, {
        mrEnclave: mr(m),
        mrSigner: mr(0x55),
        isvProdId: 7,
        isvSvn: 1,
        debug,
      }),
      { purpose: "iot-readings", generation },
    );

  before(async () => {
    env = await otpDataDir((dir) => openSqliteStore(dir, { migrations: FEATURE_MIGRATIONS }));
    replica = await startOtpReplica({
      dir: env.dir,
      platform: env.platform,
      store: env.store,
      clock: new TestClock(Date.now()),
      flags: { challengeListen: "127.0.0.1:0" },
      policies: [
        seedPolicy("gateway", 0xd1, { signerPurposes: ["iot-readings"] }),
        seedPolicy("no-purpose", 0xd2),
        seedPolicy("hardware-only", 0xd3, { signerPurposes: ["iot-readings"], platforms: undefined }),
      ],
    });
    const root = parsePemCertificates(env.platform.rootCertificatePem)[0];
    assert.ok(root);
    const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
    const collateral = parseCollateralJson(env.platform.collateralJson("sgx"));
    const policy = policyFromObject(
      { id: "svc", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
      "t",
    );
    const { transport } = await createRaTlsGrpcTransport({
      host: "127.0.0.1",
      port: replica.running.challengePort ?? assert.fail("no challenge listener"),
      peerVerifier: createPeerVerifier({
        verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy }),
      }),
    });
    registry = createClient(DeviceRegistryService, transport);
    const c = loadAdminClientCredentials(env.dir);
    admin = createClient(
      DeviceRegistryAdminService,
      createGrpcTransport({
        baseUrl: `https://127.0.0.1:${replica.running.adminPort}`,
        nodeOptions: { ca: c.caPem, cert: c.certPem, key: c.keyPem, minVersion: "TLSv1.3" },
      }),
    );
  });
  after(async () => {
    await replica.running.shutdown();
    await env.store.close();
  });

  it("registers a key its bundle binds, from an enclave the policy accepts; verifies its readings in every format", async () => {
    const k = await keygen(0xd1);
    const r = await registry.registerDevice({ device: "gw-1", bundle: bundleBytes(k.bundle) });
    assert.equal(r.policyId, "gateway");
    assert.equal(r.device?.keyId, hex(k.key.keyId));
    assert.equal(r.device?.subject, `sgx:${hex(mr(0xd1))}`);
    const reading = enc('{"sensor":"t1","celsius":21.5}');
    for (const format of ["cose", "der", "raw"] as const) {
      const v = await registry.verifyReadings({
        device: "gw-1",
        data: reading,
        signature: signData(k.key, reading, format),
        format,
      });
      assert.equal(v.keyId, hex(k.key.keyId));
    }
    // COSE carries its payload: the data may be left out, and comes back.
    const cose = signData(k.key, reading, "cose");
    assert.deepEqual((await registry.verifyReadings({ device: "gw-1", signature: cose })).payload, reading);
    // Registering the same bundle again is accepted unchanged.
    assert.equal(
      (await registry.registerDevice({ device: "gw-1", bundle: bundleBytes(k.bundle) })).device?.generation,
      1,
    );
  });

  it("swap: a bundle carrying an attacker's key is refused; the attacker's readings are never accepted", async () => {
    const k = await keygen(0xd1);
    await registry.registerDevice({ device: "gw-swap", bundle: bundleBytes(k.bundle) });
    const attacker = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const spki = new Uint8Array(attacker.publicKey.export({ format: "der", type: "spki" }));
    const { sha256 } = await import("@keyward/attest/crypto");
    const swapped = { ...k.bundle, publicKey: spki, keyId: sha256(spki) };
    assert.equal(
      await codeOf(registry.registerDevice({ device: "gw-swap", bundle: bundleBytes(swapped) })),
      "ERR_SIGNER_BINDING_MISMATCH",
    );
    assert.equal(
      await codeOf(registry.registerDevice({ device: "gw-new", bundle: bundleBytes(swapped) })),
      "ERR_SIGNER_BINDING_MISMATCH",
    );
    const forged = enc('{"sensor":"t1","celsius":99}');
    const forgedSig = new Uint8Array(sign("sha256", forged, attacker.privateKey));
    assert.equal(
      await codeOf(
        registry.verifyReadings({ device: "gw-swap", data: forged, signature: forgedSig, format: "der" }),
      ),
      "ERR_SIGNER_SIGNATURE_INVALID",
    );
    assert.equal(
      await codeOf(
        registry.verifyReadings({ device: "gw-new", data: forged, signature: forgedSig, format: "der" }),
      ),
      "ERR_SIGNER_DEVICE_NOT_FOUND",
    );
  });

  it("corruption: a corrupted key or bundle is refused with its code; the device's authentic readings still verify", async () => {
    const k = await keygen(0xd1);
    await registry.registerDevice({ device: "gw-c", bundle: bundleBytes(k.bundle) });
    const spki = new Uint8Array(k.bundle.publicKey);
    spki[spki.length - 5] = (spki[spki.length - 5] ?? 0) ^ 0x10;
    const { sha256 } = await import("@keyward/attest/crypto");
    const badKey = await codeOf(
      registry.registerDevice({
        device: "gw-c",
        bundle: bundleBytes({ ...k.bundle, publicKey: spki, keyId: sha256(spki) }),
      }),
    );
    assert.match(badKey, /^ERR_SIGNER_(KEY_INVALID|BINDING_MISMATCH)$/);
    const text = serializeKeyBundle(k.bundle);
    assert.equal(
      await codeOf(registry.registerDevice({ device: "gw-c", bundle: enc(text.slice(0, 100)) })),
      "ERR_SIGNER_BUNDLE_INVALID",
    );
    assert.equal(
      await codeOf(registry.registerDevice({ device: "gw-c", bundle: Uint8Array.of(0xff, 0xfe) })),
      "ERR_SIGNER_BUNDLE_INVALID",
    );
    const quote = new Uint8Array(k.bundle.evidence.quote);
    quote[200] = (quote[200] ?? 0) ^ 1;
    assert.match(
      await codeOf(
        registry.registerDevice({
          device: "gw-c",
          bundle: bundleBytes({ ...k.bundle, evidence: { format: "sgx-dcap", quote } }),
        }),
      ),
      /^ERR_DCAP_/,
    );
    const reading = enc("authentic");
    assert.equal(
      (
        await registry.verifyReadings({
          device: "gw-c",
          data: reading,
          signature: signData(k.key, reading, "cose"),
        })
      ).generation,
      1,
    );
  });

  it("rotation: a greater generation replaces the key; the old bundle replayed is refused, and old-key readings no longer verify", async () => {
    const k1 = await keygen(0xd1, 1);
    const k2 = await keygen(0xd1, 2);
    await registry.registerDevice({ device: "gw-r", bundle: bundleBytes(k1.bundle) });
    assert.equal(
      (await registry.registerDevice({ device: "gw-r", bundle: bundleBytes(k2.bundle) })).device?.generation,
      2,
    );
    assert.equal(
      await codeOf(registry.registerDevice({ device: "gw-r", bundle: bundleBytes(k1.bundle) })),
      "ERR_SIGNER_BUNDLE_REPLAYED",
    );
    const other2 = await keygen(0xd1, 2);
    assert.equal(
      await codeOf(registry.registerDevice({ device: "gw-r", bundle: bundleBytes(other2.bundle) })),
      "ERR_SIGNER_BUNDLE_REPLAYED",
    );
    const reading = enc("r");
    assert.equal(
      await codeOf(
        registry.verifyReadings({
          device: "gw-r",
          data: reading,
          signature: signData(k1.key, reading, "cose"),
        }),
      ),
      "ERR_SIGNER_KEY_MISMATCH",
    );
    assert.equal(
      (
        await registry.verifyReadings({
          device: "gw-r",
          data: reading,
          signature: signData(k2.key, reading, "cose"),
        })
      ).generation,
      2,
    );
  });

  it("refuses a debug enclave, the simulated platform under a hardware-only policy, and an enclave granted no purpose", async () => {
    for (const [k, name] of [
      [await keygen(0xd1, 1, true), "debug"],
      [await keygen(0xd3), "hardware-only"],
      [await keygen(0xd2), "no-purpose"],
      [await keygen(0xd9), "unknown enclave"],
    ] as const)
      assert.equal(
        await codeOf(
          registry.registerDevice({ device: `gw-${name.replace(" ", "-")}`, bundle: bundleBytes(k.bundle) }),
        ),
        "ERR_SERVICE_DENIED",
        name,
      );
  });

  it("revocation on the Admin listener: the device's readings and re-registration are refused; everything is audited in one chain", async () => {
    const k = await keygen(0xd1);
    await registry.registerDevice({ device: "gw-x", bundle: bundleBytes(k.bundle) });
    const revoked = await admin.revokeDevice({ device: "gw-x", reason: "stolen" });
    assert.equal(revoked.revoked, true);
    const reading = enc("after");
    assert.equal(
      await codeOf(
        registry.verifyReadings({
          device: "gw-x",
          data: reading,
          signature: signData(k.key, reading, "cose"),
        }),
      ),
      "ERR_SIGNER_DEVICE_REVOKED",
    );
    const k2 = await keygen(0xd1, 2);
    assert.equal(
      await codeOf(registry.registerDevice({ device: "gw-x", bundle: bundleBytes(k2.bundle) })),
      "ERR_SIGNER_DEVICE_REVOKED",
    );
    assert.equal(
      await codeOf(admin.revokeDevice({ device: "nobody", reason: "" })),
      "ERR_SIGNER_DEVICE_NOT_FOUND",
    );
    assert.ok((await admin.listDevices({})).devices.some((d) => d.device === "gw-x" && d.revoked));
    assert.equal(
      await codeOf(registry.registerDevice({ device: "bad name!", bundle: bundleBytes(k.bundle) })),
      "ERR_SIGNER_DEVICE_INVALID",
    );
    const entries = await env.store.readAudit();
    assert.equal(verifyChain(entries).ok, true);
    const actions = (a: string, o: string) => entries.filter((e) => e.action === a && e.outcome === o).length;
    assert.ok(actions("signer.register", "allowed") >= 5);
    assert.ok(actions("signer.register", "denied") >= 6);
    assert.ok(actions("signer.register", "error") >= 3);
    assert.ok(actions("signer.verify", "ok") >= 5);
    assert.ok(actions("signer.verify", "denied") >= 4);
    assert.equal(actions("signer.revoke", "ok"), 1);
    // Never the data or a signature in an entry.
    assert.ok(!JSON.stringify(entries).includes("celsius"));
  });
});
