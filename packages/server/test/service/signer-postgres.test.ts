/**
 * The device registry on PostgreSQL with two replicas sharing one schema: two rotations of one
 * device to the same generation raced across the replicas — exactly one wins, the other is
 * ERR_SIGNER_BUNDLE_REPLAYED; an old bundle replayed on either replica is refused; readings and a
 * revocation made on one replica are seen by the other.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { serializeKeyBundle } from "@keyward/attest/signer";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { generateAttestedKey, signData } from "@keyward/platform/signer";
import { simulatedPlatformAttester } from "@keyward/platform/sim";
import { DeviceRegistryAdminService, DeviceRegistryService } from "@keyward/proto/keyward/v1";
import pg from "pg";
import { loadAdminClientCredentials } from "../../src/features/admin/credentials.ts";
import { SIM_SERVICE_MEASUREMENT } from "../../src/kernel/trust.ts";
import { FEATURE_MIGRATIONS } from "../../src/main.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { hex, mr, seedPolicy } from "./helpers.ts";
import { codeOf, otpDataDir, startOtpReplica, TestClock } from "./otp-fixture.ts";
import { PG_URL, requirePostgres } from "./postgres.ts";

const schema = `kw_signer_${process.pid}_${randomBytes(4).toString("hex")}`;
const open = () => openPostgresStore({ connectionString: PG_URL, schema, migrations: FEATURE_MIGRATIONS });
const policies = [seedPolicy("gateway", 0xd1, { signerPurposes: ["iot-readings"] })];
const enc = (s: string) => new TextEncoder().encode(s);

describe("device registry on PostgreSQL with two replicas", () => {
  let fx: Awaited<ReturnType<typeof otpDataDir>>;
  let a: Awaited<ReturnType<typeof startOtpReplica>>;
  let b: Awaited<ReturnType<typeof startOtpReplica>>;
  const clients: {
    registry: ReturnType<typeof createClient<typeof DeviceRegistryService>>;
    admin: ReturnType<typeof createClient<typeof DeviceRegistryAdminService>>;
  }[] = [];
  const keygen = (generation: number) =>
    generateAttestedKey(
      simulatedPlatformAttester(fx.platform, {
        mrEnclave: mr(0xd1),
        mrSigner: mr(0x55),
        isvProdId: 7,
        isvSvn: 1,
      }),
      {
        purpose: "iot-readings",
        generation,
      },
    );

  before(async () => {
    await requirePostgres();
    fx = await otpDataDir(() => open());
    const clock = new TestClock(Date.now());
    const flags = { challengeListen: "127.0.0.1:0" };
    a = await startOtpReplica({ ...fx, policies, clock, flags });
    b = await startOtpReplica({ ...fx, store: await open(), policies, clock, flags });
    const root = parsePemCertificates(fx.platform.rootCertificatePem)[0];
    assert.ok(root);
    const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
    const collateral = parseCollateralJson(fx.platform.collateralJson("sgx"));
    const policy = policyFromObject(
      { id: "svc", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
      "t",
    );
    const c = loadAdminClientCredentials(fx.dir);
    for (const r of [a, b]) {
      const { transport } = await createRaTlsGrpcTransport({
        host: "127.0.0.1",
        port: r.running.challengePort ?? assert.fail("no challenge listener"),
        peerVerifier: createPeerVerifier({
          verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy }),
        }),
      });
      clients.push({
        registry: createClient(DeviceRegistryService, transport),
        admin: createClient(
          DeviceRegistryAdminService,
          createGrpcTransport({
            baseUrl: `https://127.0.0.1:${r.running.adminPort}`,
            nodeOptions: { ca: c.caPem, cert: c.certPem, key: c.keyPem, minVersion: "TLSv1.3" },
          }),
        ),
      });
    }
  });
  after(async () => {
    await a?.running.shutdown();
    await b?.running.shutdown();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
    if (fx !== undefined) rmSync(fx.dir, { recursive: true, force: true });
  });

  it("two rotations to one generation raced across replicas: one wins; replays refused on both; revocation seen by both", async () => {
    const [ca, cb] = clients as [(typeof clients)[0], (typeof clients)[0]];
    const k1 = await keygen(1);
    await ca.registry.registerDevice({ device: "gw-pg", bundle: enc(serializeKeyBundle(k1.bundle)) });
    const [x, y] = [await keygen(2), await keygen(2)];
    const outcomes = await Promise.all([
      codeOf(ca.registry.registerDevice({ device: "gw-pg", bundle: enc(serializeKeyBundle(x.bundle)) })),
      codeOf(cb.registry.registerDevice({ device: "gw-pg", bundle: enc(serializeKeyBundle(y.bundle)) })),
    ]);
    assert.deepEqual([...outcomes].sort(), ["ERR_SIGNER_BUNDLE_REPLAYED", "resolved"]);
    const winner = outcomes[0] === "resolved" ? x : y;
    for (const c of [ca, cb])
      assert.equal(
        await codeOf(
          c.registry.registerDevice({ device: "gw-pg", bundle: enc(serializeKeyBundle(k1.bundle)) }),
        ),
        "ERR_SIGNER_BUNDLE_REPLAYED",
      );
    const reading = enc("r");
    for (const c of [ca, cb])
      assert.equal(
        (
          await c.registry.verifyReadings({
            device: "gw-pg",
            data: reading,
            signature: signData(winner.key, reading, "cose"),
          })
        ).generation,
        2,
      );
    await ca.admin.revokeDevice({ device: "gw-pg", reason: "test" });
    assert.equal(
      await codeOf(
        cb.registry.verifyReadings({
          device: "gw-pg",
          data: reading,
          signature: signData(winner.key, reading, "cose"),
        }),
      ),
      "ERR_SIGNER_DEVICE_REVOKED",
    );
  });
});
