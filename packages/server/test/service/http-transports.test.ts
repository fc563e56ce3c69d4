/**
 * The challenge listener as plain HTTP clients reach it, over real sockets: curl (HTTP/1.1
 * without --http2, and HTTP/2) speaking Connect JSON through the whole challenge flow; gRPC-Web
 * (Connect's client); gRPC health checking and server reflection through @grpc/grpc-js (an
 * independent gRPC implementation, as probes and grpcurl are) on the challenge listener (TLS), the
 * plaintext h2c health listener and the admin listener (mutual TLS).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createECDH, createPrivateKey, type KeyObject } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { create, type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { initSimPlatform, type SimPlatform } from "@keyward/platform/sim";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
  ServerReflectionRequestSchema,
  ServerReflectionRequestV1AlphaSchema,
  ServerReflectionResponseSchema,
  ServerReflectionResponseV1AlphaSchema,
} from "@keyward/proto/grpc";
import { ChallengeService } from "@keyward/proto/keyward/v1";
import { compactDecrypt } from "jose";
import { initAdminCredentials, loadAdminClientCredentials } from "../../src/features/admin/credentials.ts";
import { challengeReportData } from "../../src/features/secrets/challenge.ts";
import { loadOrCreateKeyFile, sealSecret } from "../../src/kernel/envelope.ts";
import { loadServiceConfig, type RunningKeyward, runService } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import { hex, mr } from "./helpers.ts";

const run = promisify(execFile);
const silent = createLogger(new Writable({ write: (_c, _e, cb) => cb() }));
const dir = mkdtempSync(join(tmpdir(), "keyward-http-"));
let platform: SimPlatform;
let running: RunningKeyward;
let challengeUrl: string;

before(async () => {
  platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "app.json"),
    JSON.stringify({
      id: "app",
      mr_enclave: hex(mr(0xa1)),
      secrets: { db_password: "apps/db" },
      platforms: ["simulated"],
    }),
  );
  initAdminCredentials(dir);
  const config = loadServiceConfig(
    dir,
    {
      listen: "127.0.0.1:0",
      adminListen: "127.0.0.1:0",
      challengeListen: "127.0.0.1:0",
      grpcHealthListen: "127.0.0.1:0",
      simulation: true,
    },
    {},
  );
  running = await runService(config, silent);
  const key = loadOrCreateKeyFile(join(dir, "master.key"));
  await running.store.putSecret(
    "apps/db",
    (v) => sealSecret(key, "apps/db", v, new TextEncoder().encode("pg-password-1")),
    { action: "secret.put", outcome: "ok", subject: "admin:test" },
  );
  challengeUrl = `https://127.0.0.1:${running.challengePort}`;
});
after(async () => {
  await running?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** curl as a user runs it (-k: these tests are about the transport; RA-TLS is verified elsewhere). */
async function curlJson(path: string, body: unknown, extra: readonly string[] = []) {
  const { stdout } = await run("curl", [
    "-sS",
    "-k",
    ...extra,
    "-H",
    "content-type: application/json",
    "--data-binary",
    JSON.stringify(body),
    "-w",
    "\n%{http_code} %{http_version}",
    `${challengeUrl}${path}`,
  ]);
  const lines = stdout.trimEnd().split("\n");
  const [status, version] = (lines.pop() ?? "").split(" ");
  return { status: Number(status), version, json: JSON.parse(lines.join("\n")) as Record<string, unknown> };
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: unknown) => new Uint8Array(Buffer.from(String(s), "base64"));

/** Opens a released secret's JWE with the one-time key (jose: an independent JOSE implementation). */
async function open(ecdh: ReturnType<typeof createECDH>, jwe: string): Promise<string> {
  const pub = ecdh.getPublicKey();
  const key: KeyObject = createPrivateKey({
    format: "jwk",
    key: {
      kty: "EC",
      crv: "P-256",
      x: pub.subarray(1, 33).toString("base64url"),
      y: pub.subarray(33).toString("base64url"),
      d: ecdh.getPrivateKey().toString("base64url"),
    },
  });
  return new TextDecoder().decode((await compactDecrypt(jwe, key)).plaintext);
}

function quoteFor(m: number, nonce: Uint8Array, epk: Uint8Array): Uint8Array {
  const reportData = new Uint8Array(64);
  reportData.set(challengeReportData(nonce, epk));
  return platform.quoteSgx({ mrEnclave: mr(m), mrSigner: mr(0x55), isvProdId: 1, isvSvn: 1, reportData });
}

describe("the challenge flow with curl and Connect JSON", () => {
  for (const [label, flags, version] of [
    ["HTTP/1.1 (curl without --http2)", ["--http1.1"], "1.1"],
    ["HTTP/2", ["--http2"], "2"],
  ] as const) {
    it(`challenge, evidence, token, release over ${label}`, async () => {
      const ecdh = createECDH("prime256v1");
      const epk = new Uint8Array(ecdh.generateKeys());
      const c = await curlJson("/keyward.v1.ChallengeService/Challenge", {}, flags);
      assert.equal(c.status, 200);
      assert.equal(c.version, version);
      const nonce = unb64(c.json.nonce);
      assert.equal(nonce.byteLength, 32);
      const a = await curlJson(
        "/keyward.v1.ChallengeService/Attest",
        { nonce: b64(nonce), quote: b64(quoteFor(0xa1, nonce, epk)), ephemeralPublicKey: b64(epk) },
        flags,
      );
      assert.equal(a.status, 200, JSON.stringify(a.json));
      assert.equal(a.json.policyId, "app");
      const r = await curlJson(
        "/keyward.v1.ChallengeService/GetSecretsWithToken",
        { token: a.json.token, names: ["db_password"] },
        flags,
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const [s] = r.json.secrets as Record<string, unknown>[];
      assert.ok(s !== undefined);
      assert.equal(await open(ecdh, String(s.jwe)), "pg-password-1");
      // The token was single use: the protocol's error JSON, with Connect's HTTP status.
      const again = await curlJson(
        "/keyward.v1.ChallengeService/GetSecretsWithToken",
        { token: a.json.token },
        flags,
      );
      assert.equal(again.status, 401);
      assert.equal(again.json.code, "unauthenticated");
    });
  }

  it("refuses evidence that no policy accepts, and malformed JSON, with Connect's error shape", async () => {
    const epk = new Uint8Array(createECDH("prime256v1").generateKeys());
    const c = await curlJson("/keyward.v1.ChallengeService/Challenge", {});
    const nonce = unb64(c.json.nonce);
    const refused = await curlJson("/keyward.v1.ChallengeService/Attest", {
      nonce: b64(nonce),
      quote: b64(quoteFor(0xb2, nonce, epk)),
      ephemeralPublicKey: b64(epk),
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.code, "permission_denied");
    const bad = await curlJson("/keyward.v1.ChallengeService/Attest", { nonce: 12 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, "invalid_argument");
  });

  it("holds an anonymous request body to the message limit", async () => {
    const body = join(dir, "big.json");
    writeFileSync(body, `{"nonce":"${"x".repeat((1 << 20) + 16)}"}`);
    const { stdout } = await run("curl", [
      "-sS",
      "-k",
      "-H",
      "content-type: application/json",
      "--data-binary",
      `@${body}`,
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `${challengeUrl}/keyward.v1.ChallengeService/Attest`,
    ]);
    assert.notEqual(stdout, "200");
    assert.match(stdout, /^4\d\d$/);
  });
});

describe("gRPC-Web", () => {
  it("runs the challenge flow over HTTP/1.1 with the gRPC-Web protocol", async () => {
    const client = createClient(
      ChallengeService,
      createGrpcWebTransport({
        baseUrl: challengeUrl,
        httpVersion: "1.1",
        nodeOptions: { rejectUnauthorized: false },
      }),
    );
    const ecdh = createECDH("prime256v1");
    const epk = new Uint8Array(ecdh.generateKeys());
    const { nonce } = await client.challenge({});
    const a = await client.attest({ nonce, quote: quoteFor(0xa1, nonce, epk), ephemeralPublicKey: epk });
    const r = await client.getSecretsWithToken({ token: a.token, names: ["db_password"] });
    const s = r.secrets[0] ?? assert.fail("no secret");
    assert.equal(await open(ecdh, s.jwe), "pg-password-1");
  });
});

// grpc-js clients built from the generated descriptors: the wire is grpc-js's own.
function unary(path: string, input: DescMessage, output: DescMessage): grpc.MethodDefinition<object, object> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) => Buffer.from(toBinary(input, create(input, m as never))),
    requestDeserialize: (b) => fromBinary(input, b),
    responseSerialize: (m) => Buffer.from(toBinary(output, create(output, m as never))),
    responseDeserialize: (b) => fromBinary(output, b),
  };
}
const HealthClient = grpc.makeGenericClientConstructor(
  {
    Check: unary("/grpc.health.v1.Health/Check", HealthCheckRequestSchema, HealthCheckResponseSchema),
    Watch: {
      ...unary("/grpc.health.v1.Health/Watch", HealthCheckRequestSchema, HealthCheckResponseSchema),
      responseStream: true,
    },
  },
  "Health",
);

function reflectionClient(version: "v1" | "v1alpha", address: string, credentials: grpc.ChannelCredentials) {
  const [req, res] =
    version === "v1"
      ? [ServerReflectionRequestSchema, ServerReflectionResponseSchema]
      : [ServerReflectionRequestV1AlphaSchema, ServerReflectionResponseV1AlphaSchema];
  const Ctor = grpc.makeGenericClientConstructor(
    {
      ServerReflectionInfo: {
        ...unary(
          `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
          req as never,
          res as never,
        ),
        requestStream: true,
        responseStream: true,
      },
    },
    "ServerReflection",
  );
  return new Ctor(address, credentials, options);
}

// The simulated service certificate names no host: grpc-js is told to skip the name check only.
const options = { "grpc.ssl_target_name_override": "localhost" };
const challengeCredentials = async () => {
  const { stdout } = await run("sh", [
    "-c",
    `openssl s_client -connect 127.0.0.1:${running.challengePort} -showcerts </dev/null 2>/dev/null | openssl x509`,
  ]);
  return grpc.credentials.createSsl(Buffer.from(stdout), null, null, {
    checkServerIdentity: () => undefined,
  });
};

function check(
  client: grpc.Client,
  service: string,
): Promise<{ status?: number | undefined; code?: number }> {
  return new Promise((resolve) =>
    (client as unknown as Record<string, (...a: unknown[]) => void>).Check?.(
      { service },
      (e: grpc.ServiceError | null, r: { status: number } | undefined) =>
        resolve(e === null ? { status: r?.status } : { code: e.code }),
    ),
  );
}

describe("gRPC health checking through grpc-js", () => {
  it("answers on the challenge listener (TLS): the server, its services, and NOT_FOUND otherwise", async () => {
    const c = new HealthClient(`127.0.0.1:${running.challengePort}`, await challengeCredentials(), options);
    assert.deepEqual(await check(c, ""), { status: HealthCheckResponse_ServingStatus.SERVING });
    assert.deepEqual(await check(c, "keyward.v1.ChallengeService"), {
      status: HealthCheckResponse_ServingStatus.SERVING,
    });
    assert.deepEqual(await check(c, "keyward.v1.NoSuchService"), { code: grpc.status.NOT_FOUND });
    c.close();
  });

  it("answers in plaintext h2c on --grpc-health-listen, as a Kubernetes probe connects", async () => {
    const c = new HealthClient(`127.0.0.1:${running.grpcHealthPort}`, grpc.credentials.createInsecure());
    assert.deepEqual(await check(c, ""), { status: HealthCheckResponse_ServingStatus.SERVING });
    assert.deepEqual(await check(c, "keyward.v1.SecretProvisioningService"), {
      status: HealthCheckResponse_ServingStatus.SERVING,
    });
    assert.deepEqual(await check(c, "nope"), { code: grpc.status.NOT_FOUND });
    // Watch: the status now (and each change after, until cancelled).
    const first = await new Promise<number>((resolve, reject) => {
      const call = (
        c as unknown as { Watch(r: unknown): grpc.ClientReadableStream<{ status: number }> }
      ).Watch({
        service: "",
      });
      call.once("data", (m) => {
        resolve(m.status);
        call.cancel();
      });
      call.once("error", (e: grpc.ServiceError) => e.code !== grpc.status.CANCELLED && reject(e));
    });
    assert.equal(first, HealthCheckResponse_ServingStatus.SERVING);
    c.close();
  });

  it("serves nothing but health on the h2c listener", async () => {
    const Ctor = grpc.makeGenericClientConstructor(
      {
        Challenge: unary(
          "/keyward.v1.ChallengeService/Challenge",
          HealthCheckRequestSchema,
          HealthCheckResponseSchema,
        ),
      },
      "ChallengeService",
    );
    const c = new Ctor(`127.0.0.1:${running.grpcHealthPort}`, grpc.credentials.createInsecure());
    const code = await new Promise<number | undefined>((resolve) =>
      (c as unknown as Record<string, (...a: unknown[]) => void>).Challenge?.(
        {},
        (e: grpc.ServiceError | null) => resolve(e?.code),
      ),
    );
    assert.equal(code, grpc.status.UNIMPLEMENTED);
    c.close();
  });
});

type ReflectionAnswer = {
  messageResponse: { case: string; value: Record<string, unknown> };
};

function reflect(client: grpc.Client, requests: unknown[]): Promise<ReflectionAnswer[]> {
  return new Promise((resolve, reject) => {
    const call = (
      client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, ReflectionAnswer> }
    ).ServerReflectionInfo();
    const out: ReflectionAnswer[] = [];
    call.on("data", (m) => out.push(m));
    call.on("error", reject);
    call.on("end", () => resolve(out));
    for (const r of requests) call.write(r);
    call.end();
  });
}

const list = { host: "", messageRequest: { case: "listServices", value: "*" } };
const symbol = (s: string) => ({ host: "", messageRequest: { case: "fileContainingSymbol", value: s } });
const servicesOf = (a: ReflectionAnswer | undefined) =>
  ((a?.messageResponse.value.service ?? []) as { name: string }[]).map((s) => s.name).sort();
const filesOf = (a: ReflectionAnswer | undefined) =>
  ((a?.messageResponse.value.fileDescriptorProto ?? []) as Uint8Array[]).map((b) =>
    fromBinary(FileDescriptorProtoSchema, b),
  );

describe("server reflection through grpc-js (what grpcurl does)", () => {
  for (const version of ["v1", "v1alpha"] as const) {
    it(`lists and describes the challenge listener's services (${version})`, async () => {
      const c = reflectionClient(version, `127.0.0.1:${running.challengePort}`, await challengeCredentials());
      const [listed, described, method, missing] = await reflect(c, [
        list,
        symbol("keyward.v1.ChallengeService"),
        symbol("keyward.v1.ChallengeService.Attest"),
        symbol("keyward.v1.NoSuch"),
      ]);
      // Every service of this listener (other features add theirs), and none of another's.
      const names = servicesOf(listed);
      for (const n of [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "keyward.v1.ChallengeService",
      ])
        assert.ok(names.includes(n), n);
      assert.ok(!names.includes("keyward.v1.AdminService"));
      assert.ok(!names.includes("keyward.v1.SecretProvisioningService"));
      const [file] = filesOf(described);
      assert.equal(file?.name, "keyward/v1/challenge.proto");
      assert.deepEqual(
        file?.service[0]?.method.map((m) => m.name),
        ["Challenge", "Attest", "GetSecretsWithToken"],
      );
      assert.equal(filesOf(method)[0]?.name, "keyward/v1/challenge.proto");
      assert.equal(missing?.messageResponse.case, "errorResponse");
      assert.equal(missing?.messageResponse.value.errorCode, grpc.status.NOT_FOUND);
      c.close();
    });
  }

  it("describes the admin listener's services to an operator, and sends each dependency once", async () => {
    const creds = loadAdminClientCredentials(dir);
    const c = reflectionClient(
      "v1",
      `127.0.0.1:${running.adminPort}`,
      grpc.credentials.createSsl(
        Buffer.from(creds.caPem),
        Buffer.from(creds.keyPem),
        Buffer.from(creds.certPem),
      ),
    );
    const [listed, described, byName] = await reflect(c, [
      list,
      symbol("keyward.v1.AdminService"),
      { host: "", messageRequest: { case: "fileByFilename", value: "keyward/v1/admin.proto" } },
    ]);
    assert.ok(servicesOf(listed).includes("keyward.v1.AdminService"));
    const files = filesOf(described).map((f) => f.name);
    assert.equal(files[0], "keyward/v1/admin.proto");
    assert.equal(new Set(files).size, files.length);
    // Asked for by name, the file comes again, its dependencies (already sent) do not.
    assert.deepEqual(
      filesOf(byName).map((f) => f.name),
      ["keyward/v1/admin.proto"],
    );
    c.close();
  });

  it("refuses a client without the admin CA's certificate on the admin listener", async () => {
    const creds = loadAdminClientCredentials(dir);
    const c = reflectionClient(
      "v1",
      `127.0.0.1:${running.adminPort}`,
      grpc.credentials.createSsl(Buffer.from(creds.caPem)),
    );
    await assert.rejects(reflect(c, [list]));
    c.close();
  });
});
