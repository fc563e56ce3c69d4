/**
 * @keyward/client against a running service over real sockets: getSecrets on the service listener
 * (mutual RA-TLS) and on the challenge listener (the path chosen by what the address offers), the
 * service verified (an impostor refused before anything is sent), refusals with the service's
 * codes, retries of a refused connection until the service is reachable, KMS sign/decrypt, and a
 * one-time code carried to a policy that requires one.
 */
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { createConnection, createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { getSecrets, kms, serverTrust } from "@keyward/client";
import { simulatedPlatformAttester } from "@keyward/platform/sim";
import { createOrRotateKey } from "../../server/src/kernel/keys.ts";
import { SIM_SERVICE_MEASUREMENT } from "../../server/src/kernel/trust.ts";
import { hex, mr, seedPolicy, startFixture } from "../../server/test/service/helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
let f: Awaited<ReturnType<typeof startFixture>>;
let service: string;
let challenge: string;

before(async () => {
  f = await startFixture([
    seedPolicy("app", 0xc1, { keys: { signer: ["sign", "getPublicKey"], box: ["encrypt", "decrypt"] } }),
    seedPolicy("stepped", 0xc2, {
      otpRequired: [{ account: "release-approver", actions: ["secrets.get"] }],
    }),
  ]);
  await createOrRotateKey(f.store, f.masterKey, "signer", "P-256", "admin:test");
  await createOrRotateKey(f.store, f.masterKey, "box", "AES-256-GCM", "admin:test");
  service = `127.0.0.1:${f.running.port}`;
  challenge = `127.0.0.1:${f.running.challengePort}`;
});
after(async () => {
  await f.service.close();
});

const attesterFor = (m: number) =>
  simulatedPlatformAttester(f.platform, { mrEnclave: mr(m), mrSigner: mr(0x55), isvProdId: 1, isvSvn: 1 });
const trust = (measurement: Uint8Array = SIM_SERVICE_MEASUREMENT) =>
  serverTrust({
    policy: { id: "keyward", platforms: ["simulated"], mrEnclave: [hex(measurement)] },
    simulation: { rootPem: f.platform.rootCertificatePem, collateralJson: f.platform.collateralJson("sgx") },
  });
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe("getSecrets", () => {
  it("attests over mutual RA-TLS on the service listener", async () => {
    const s = await getSecrets({
      server: service,
      names: ["master_key"],
      verifyServer: trust(),
      attester: attesterFor(0xc1),
    });
    assert.equal(s.path, "mutual");
    assert.equal(s.policyId, "app");
    assert.equal(dec(s.values.master_key), "s3cr3t-image-key");
  });

  it("takes the challenge path where the address is the challenge listener", async () => {
    const s = await getSecrets({
      server: challenge,
      names: ["master_key"],
      verifyServer: trust(),
      attester: attesterFor(0xc1),
    });
    assert.equal(s.path, "challenge");
    assert.equal(dec(s.values.master_key), "s3cr3t-image-key");
    assert.equal(s.versions.master_key, 1);
  });

  it("is refused with the service's code when no policy accepts the evidence, on both paths", async () => {
    for (const server of [service, challenge])
      await assert.rejects(
        getSecrets({ server, verifyServer: trust(), attester: attesterFor(0xee), retry: { attempts: 1 } }),
        code("ERR_SERVICE_DENIED"),
      );
  });

  it("refuses a service whose evidence is not the expected one, before sending anything, without retrying", async () => {
    let retries = 0;
    await assert.rejects(
      getSecrets({
        server: service,
        verifyServer: trust(mr(0x99)),
        attester: attesterFor(0xc1),
        retry: { onRetry: () => retries++ },
      }),
      code("ERR_RATLS_POLICY_REJECTED"),
    );
    assert.equal(retries, 0);
  });

  it("retries a refused connection with backoff until the service is reachable", async () => {
    // A port that refuses connections until the first retry opens a forwarder to the service.
    const hold = createServer();
    await new Promise<void>((r) => hold.listen(0, "127.0.0.1", r));
    const port = (hold.address() as { port: number }).port;
    await new Promise<void>((r) => hold.close(() => r()));
    let forwarder: Server | undefined;
    let retries = 0;
    const s = await getSecrets({
      server: { host: "127.0.0.1", port },
      verifyServer: trust(),
      attester: attesterFor(0xc1),
      retry: {
        attempts: 5,
        baseDelayMs: 20,
        onRetry: () => {
          retries++;
          if (forwarder !== undefined) return;
          forwarder = createServer((c) => {
            const upstream = createConnection(f.running.port, "127.0.0.1");
            c.pipe(upstream).pipe(c);
            c.on("error", () => upstream.destroy());
            upstream.on("error", () => c.destroy());
          });
          forwarder.listen(port, "127.0.0.1");
        },
      },
    });
    assert.ok(retries >= 1);
    assert.equal(dec(s.values.master_key), "s3cr3t-image-key");
    await new Promise<void>((r) => forwarder?.close(() => r()) ?? r());
  });

  it("gives up after the attempts with ERR_IO when nothing listens", async () => {
    const hold = createServer();
    await new Promise<void>((r) => hold.listen(0, "127.0.0.1", r));
    const port = (hold.address() as { port: number }).port;
    await new Promise<void>((r) => hold.close(() => r()));
    let retries = 0;
    await assert.rejects(
      getSecrets({
        server: `127.0.0.1:${port}`,
        verifyServer: trust(),
        attester: attesterFor(0xc1),
        retry: { attempts: 3, baseDelayMs: 5, onRetry: () => retries++ },
      }),
      code("ERR_IO"),
    );
    assert.equal(retries, 2);
  });

  it("carries a one-time code to a policy that requires one (step-up)", async () => {
    const a = attesterFor(0xc2);
    await assert.rejects(
      getSecrets({ server: service, verifyServer: trust(), attester: a, retry: { attempts: 1 } }),
      code("ERR_OTP_REQUIRED"),
    );
    // The header arrived: the service now looks the account up (none exists here).
    await assert.rejects(
      getSecrets({
        server: service,
        verifyServer: trust(),
        attester: a,
        otp: { account: "release-approver", code: "123456" },
        retry: { attempts: 1 },
      }),
      (e: unknown) => /^ERR_OTP_(ACCOUNT_NOT_FOUND|INVALID)$/.test((e as { code: string }).code),
    );
    await assert.rejects(
      getSecrets({ server: service, verifyServer: trust(), attester: a, otp: { account: "a:b", code: "1" } }),
      code("ERR_USAGE"),
    );
  });
});

describe("kms", () => {
  it("signs (the signature verifies with the key's public key) and decrypts what it encrypted", async () => {
    const options = { server: service, verifyServer: trust(), attester: attesterFor(0xc1) };
    const message = enc("release 1.2.3");
    const { signature } = await kms.sign({ ...options, keyId: "signer", message });
    const { spki } = await kms.getPublicKey({ ...options, keyId: "signer" });
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    assert.equal(verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature), true);
    const ciphertext = await kms.encrypt({
      ...options,
      keyId: "box",
      plaintext: enc("data"),
      aad: enc("ctx"),
    });
    assert.equal(dec(await kms.decrypt({ ...options, keyId: "box", ciphertext, aad: enc("ctx") })), "data");
    await assert.rejects(
      kms.decrypt({ ...options, keyId: "box", ciphertext, aad: enc("other"), retry: { attempts: 1 } }),
    );
    await assert.rejects(
      kms.sign({ ...options, attester: attesterFor(0xee), keyId: "signer", message, retry: { attempts: 1 } }),
      code("ERR_SERVICE_DENIED"),
    );
  });
});
