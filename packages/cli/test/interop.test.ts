/**
 * Issue 15's done-when, over real sockets against one `keyward serve` process: a Confidential
 * Containers guest (the KBS protocol as guest components speak it, TDX evidence), a Gramine app
 * (secret provisioning as libsecret_prov_attest.so speaks it), curl (Connect JSON on the challenge
 * listener, HTTP/1.1), a gRPC health probe (grpc-js on the plaintext h2c health listener, as a
 * kubelet probes) and the SDK (@keyward/client on both paths) each get the same secret; each of
 * them that presents evidence is refused when its evidence does not match the policy.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createECDH, createPrivateKey } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { getSecrets, serverTrust } from "@keyward/client";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { initSimPlatform, type SimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@keyward/proto/grpc";
import { compactDecrypt } from "jose";
import { challengeReportData } from "../../server/src/features/secrets/challenge.ts";
import { loadOrCreateKeyFile, sealSecret } from "../../server/src/kernel/envelope.ts";
import { SIM_SERVICE_MEASUREMENT } from "../../server/src/kernel/trust.ts";
import { openSqliteStore } from "../../server/src/store/sqlite/engine.ts";
import { gramineSecretProvision } from "../../server/test/service/gramine-client.ts";
import { hex, mr } from "../../server/test/service/helpers.ts";
import { call, decryptKbsResponse, handshake } from "../../server/test/service/kbs-client.ts";
import { makeTestTls } from "../../server/test/service/tls-ca.ts";

const KEYWARD = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const SECRET = "one-secret-for-every-protocol";
const MRTD = new Uint8Array(48).fill(0x7d);
const run = promisify(execFile);
const tls = makeTestTls();
const dir = mkdtempSync(join(tmpdir(), "keyward-interop-"));
let platform: SimPlatform;
let child: ChildProcess;
let ports: Record<string, number>;

before(async () => {
  platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  mkdirSync(join(dir, "policies"));
  const policy = (name: string, doc: Record<string, unknown>) =>
    writeFileSync(
      join(dir, "policies", `${name}.json`),
      JSON.stringify({ id: name, platforms: ["simulated"], ...doc }),
    );
  // The same stored secret, under the name each protocol asks by.
  policy("enclave-app", { mrEnclave: [hex(mr(0xa1))], secrets: { db: "app/db-password" } });
  policy("coco-guest", { tee: ["tdx"], mrTd: [hex(MRTD)], secrets: { "default/app/db": "app/db-password" } });
  const store = await openSqliteStore(dir);
  const key = loadOrCreateKeyFile(join(dir, "master.key"));
  await store.putSecret(
    "app/db-password",
    (v) => sealSecret(key, "app/db-password", v, new TextEncoder().encode(SECRET)),
    {
      action: "secret.put",
      outcome: "ok",
      subject: "admin:test",
    },
  );
  await store.close();
  const any = "127.0.0.1:0";
  child = spawn(
    process.execPath,
    [
      KEYWARD,
      "serve",
      "--data-dir",
      dir,
      "--simulation",
      "--listen",
      any,
      "--challenge-listen",
      any,
      "--kbs-listen",
      any,
      "--kbs-cert",
      tls.certFile,
      "--kbs-key",
      tls.keyFile,
      "--gramine-secret-prov-listen",
      any,
      "--gramine-secret-prov-cert",
      tls.certFile,
      "--gramine-secret-prov-key",
      tls.keyFile,
      "--grpc-health-listen",
      any,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  ports = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`keyward serve exited ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        const j = JSON.parse(line);
        if (j.event === "listening") resolve(j);
      } catch {
        // not a log line
      }
    });
  });
});
after(() => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  rmSync(tls.dir, { recursive: true, force: true });
});

const sgxAttester = (m: number) =>
  simulatedPlatformAttester(platform, { mrEnclave: mr(m), mrSigner: mr(0x55), isvProdId: 1, isvSvn: 1 });

describe("one keyward serve, every protocol, the same secret", () => {
  it("a Confidential Containers guest over the KBS protocol (TDX evidence)", async () => {
    const kbs = { url: `https://127.0.0.1:${ports.kbsPort}`, ca: tls.caPem };
    const ok = await handshake(kbs, "tdx", (rd) => platform.quoteTdx({ mrTd: MRTD, reportData: rd }));
    assert.equal(ok.attest.status, 200, JSON.stringify(ok.attest.body));
    const r = await call(kbs, "GET", "/kbs/v0/resource/default/app/db", undefined, ok.jar.headers());
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(decryptKbsResponse(ok.key.privateKey, r.body as Record<string, string>).toString(), SECRET);
    // Another TD: refused at attestation (no policy accepts it), or at the resource.
    const other = await handshake(kbs, "tdx", (rd) =>
      platform.quoteTdx({ mrTd: new Uint8Array(48).fill(0x01), reportData: rd }),
    );
    const denied =
      other.attest.status === 200
        ? await call(kbs, "GET", "/kbs/v0/resource/default/app/db", undefined, other.jar.headers())
        : other.attest;
    assert.ok(denied.status === 401 || denied.status === 403, `status ${denied.status}`);
  });

  it("a Gramine app over secret provisioning (RA-TLS client certificate)", async () => {
    const provision = async (m: number) =>
      gramineSecretProvision({
        host: "127.0.0.1",
        port: ports.gramineSecretProvPort ?? 0,
        servername: "localhost",
        ca: tls.caPem,
        credential: await issueRaTlsCertificate({
          attester: sgxAttester(m),
          curve: "P-384",
          legacyExtension: true,
        }),
      });
    const ok = await provision(0xa1);
    assert.ok("secret" in ok);
    assert.equal(Buffer.from(ok.secret).toString("latin1"), `${SECRET}\0`);
    assert.deepEqual(await provision(0xb2), { refused: true });
  });

  it("curl over HTTP/1.1 with Connect JSON on the challenge listener", async () => {
    const url = `https://127.0.0.1:${ports.challengePort}/keyward.v1.ChallengeService`;
    const curl = async (method: string, body: unknown) => {
      const { stdout } = await run("curl", [
        "-sS",
        "-k",
        "--http1.1",
        "-H",
        "content-type: application/json",
        "--data-binary",
        JSON.stringify(body),
        `${url}/${method}`,
      ]);
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const attempt = async (m: number) => {
      const ecdh = createECDH("prime256v1");
      const epk = ecdh.generateKeys();
      const nonce = Buffer.from(String((await curl("Challenge", {})).nonce), "base64");
      const reportData = new Uint8Array(64);
      reportData.set(challengeReportData(nonce, epk));
      const { quote } = await sgxAttester(m).attest(reportData);
      const a = await curl("Attest", {
        nonce: nonce.toString("base64"),
        quote: Buffer.from(quote).toString("base64"),
        ephemeralPublicKey: epk.toString("base64"),
      });
      if (a.token === undefined) return a;
      const r = await curl("GetSecretsWithToken", { token: a.token, names: ["db"] });
      const [s] = r.secrets as { jwe: string }[];
      const key = createPrivateKey({
        format: "jwk",
        key: {
          kty: "EC",
          crv: "P-256",
          x: epk.subarray(1, 33).toString("base64url"),
          y: epk.subarray(33).toString("base64url"),
          d: ecdh.getPrivateKey().toString("base64url"),
        },
      });
      return { value: new TextDecoder().decode((await compactDecrypt(s?.jwe ?? "", key)).plaintext) };
    };
    assert.deepEqual(await attempt(0xa1), { value: SECRET });
    assert.equal((await attempt(0xb2)).code, "permission_denied");
  });

  it("a gRPC health probe on the plaintext h2c listener, as a kubelet probes", async () => {
    const Health = grpc.makeGenericClientConstructor(
      {
        Check: {
          path: "/grpc.health.v1.Health/Check",
          requestStream: false,
          responseStream: false,
          requestSerialize: (m: object) =>
            Buffer.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, m))),
          requestDeserialize: (b: Buffer) => fromBinary(HealthCheckRequestSchema, b),
          responseSerialize: (m: object) =>
            Buffer.from(toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, m))),
          responseDeserialize: (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
        },
      },
      "Health",
    );
    const c = new Health(`127.0.0.1:${ports.grpcHealthPort}`, grpc.credentials.createInsecure());
    const status = await new Promise<number | undefined>((resolve, reject) =>
      (c as unknown as Record<string, (...a: unknown[]) => void>).Check?.(
        { service: "" },
        (e: grpc.ServiceError | null, r?: { status: number }) =>
          e === null ? resolve(r?.status) : reject(e),
      ),
    );
    assert.equal(status, HealthCheckResponse_ServingStatus.SERVING);
    c.close();
  });

  it("the SDK on the service listener and on the challenge listener", async () => {
    const verifyServer = serverTrust({
      policy: { id: "keyward", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
      simulation: { rootPem: platform.rootCertificatePem, collateralJson: platform.collateralJson("sgx") },
    });
    for (const [server, path] of [
      [`127.0.0.1:${ports.port}`, "mutual"],
      [`127.0.0.1:${ports.challengePort}`, "challenge"],
    ] as const) {
      const s = await getSecrets({ server, names: ["db"], verifyServer, attester: sgxAttester(0xa1) });
      assert.equal(s.path, path);
      assert.equal(new TextDecoder().decode(s.values.db), SECRET);
      await assert.rejects(
        getSecrets({
          server,
          names: ["db"],
          verifyServer,
          attester: sgxAttester(0xb2),
          retry: { attempts: 1 },
        }),
        (e: unknown) => (e as { code?: string }).code === "ERR_SERVICE_DENIED",
      );
    }
  });
});
