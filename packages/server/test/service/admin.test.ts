/**
 * The Admin listener: mutual TLS with admin-CA certificates only; secrets, keys and policies
 * managed and audited; Explain replaying stored decisions and appraising evidence; the audit log
 * read and verified; the second-factor seam refusing changes without touching the store.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KeywardError } from "@keyward/attest/errors";
import { initSimPlatform, type SimPlatform } from "@keyward/platform/sim";
import { fromConnectError } from "../../src/errors/connect.ts";
import { type AdminClient, connectAdmin } from "../../src/features/admin/client.ts";
import {
  addAdminClient,
  adminDir,
  initAdminCredentials,
  loadAdminClientCredentials,
} from "../../src/features/admin/credentials.ts";
import { adminOperations } from "../../src/features/admin/operations.ts";
import { adminService } from "../../src/features/admin/service.ts";
import { connectRoutes } from "../../src/kernel/rpc.ts";
import { loadServiceConfig, POLICY_READER, type RunningKeyward, runService } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import { clientAs, hex, mr } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "keyward-admin-"));
const silent = createLogger({ write: () => undefined } as unknown as NodeJS.WritableStream);
let platform: SimPlatform;
let running: RunningKeyward;
let admin: AdminClient;

const emptyPolicies = {
  reader: POLICY_READER,
  current: () => [],
  entries: () => [],
  refresh: async () => undefined,
  close: () => undefined,
};

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return fromConnectError(e).code;
  }
  return "resolved";
};

before(async () => {
  platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "app.json"),
    JSON.stringify({
      id: "app",
      mr_enclave: hex(mr(0xa1)),
      app_token: "vault-token-never-listed",
      secrets: { db_password: "apps/db" },
      platforms: ["simulated"],
    }),
  );
  initAdminCredentials(dir);
  const config = loadServiceConfig(
    dir,
    { listen: "127.0.0.1:0", adminListen: "127.0.0.1:0", challengeListen: "127.0.0.1:0", simulation: true },
    {},
  );
  running = await runService(config, silent, {
    // The seam: changes need the header below (as an OTP check would); reads do not.
    stepUp: async ({ headers }) => {
      if (headers.get("x-keyward-step-up") !== "ok")
        throw new KeywardError("ERR_ADMIN_STEP_UP_REQUIRED", "a second factor is required");
    },
  });
  const port = running.adminPort ?? assert.fail("no admin listener");
  admin = connectAdmin(
    loadAdminClientCredentials(dir),
    { host: "127.0.0.1", port },
    { "x-keyward-step-up": "ok" },
  );
});
after(async () => {
  await running?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe("keyward serve's challenge listener", () => {
  it("runs with the service's trust and policies: a nonce, then a token for attested evidence", async () => {
    const { createClient } = await import("@connectrpc/connect");
    const { ChallengeService } = await import("@keyward/proto/keyward/v1");
    const { createPeerVerifier } = await import("@keyward/channels/tls");
    const { createRaTlsGrpcTransport } = await import("@keyward/channels/grpc");
    const { challengeReportData } = await import("../../src/features/secrets/challenge.ts");
    const { simulationTrust } = await import("../../src/kernel/trust.ts");
    const { createECDH } = await import("node:crypto");
    const { transport } = await createRaTlsGrpcTransport({
      host: "127.0.0.1",
      port: running.challengePort ?? assert.fail("no challenge listener"),
      peerVerifier: createPeerVerifier({ verify: simulationTrust(platform) }),
    });
    const challenge = createClient(ChallengeService, transport);
    const { nonce } = await challenge.challenge({});
    const epk = new Uint8Array(createECDH("prime256v1").generateKeys());
    const reportData = new Uint8Array(64);
    reportData.set(challengeReportData(nonce, epk));
    const quote = platform.quoteSgx({
      mrEnclave: mr(0xa1),
      mrSigner: mr(1),
      isvProdId: 1,
      isvSvn: 1,
      reportData,
    });
    const r = await challenge.attest({ nonce, quote, ephemeralPublicKey: epk });
    assert.equal(r.policyId, "app");
    assert.equal(r.token.byteLength, 32);
  });
});

describe("Admin listener", () => {
  it("never overwrites credentials, and names operators strictly", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return "returned";
    };
    assert.equal(
      code(() => initAdminCredentials(dir)),
      "ERR_SERVICE_CONFIG",
    );
    assert.equal(
      code(() => addAdminClient(dir, "admin")),
      "ERR_SERVICE_CONFIG",
    );
    assert.equal(
      code(() => addAdminClient(dir, "bad name")),
      "ERR_SERVICE_CONFIG",
    );
    assert.equal(
      code(() => loadAdminClientCredentials(dir, "nobody")),
      "ERR_SERVICE_CONFIG",
    );
    assert.equal(addAdminClient(dir, "second-operator").name, "second-operator");
    assert.equal(statSync(join(adminDir(dir), "clients", "second-operator.key")).mode & 0o777, 0o600);
  });

  it("answers no call whose context carries no verified operator (ERR_ADMIN_UNAUTHENTICATED)", async () => {
    // The listener refuses such callers in the handshake; the handlers refuse them again.
    const { createClient, createRouterTransport } = await import("@connectrpc/connect");
    const { AdminService } = await import("@keyward/proto/keyward/v1");
    const ops = adminOperations({
      store: running.store,
      masterKey: () => new Uint8Array(32),
      policies: emptyPolicies,
    });
    const bare = createClient(
      AdminService,
      createRouterTransport(connectRoutes([adminService(ops, async () => undefined)])),
    );
    assert.equal(await code(bare.listSecrets({})), "ERR_ADMIN_UNAUTHENTICATED");
    assert.equal(
      await code(bare.putSecret({ name: "x", value: new Uint8Array(1) })),
      "ERR_ADMIN_UNAUTHENTICATED",
    );
  });

  it("keeps the admin keys 0600 and refuses clients without an admin-CA certificate", async () => {
    for (const f of ["ca.key", "server.key", "clients/admin.key"])
      assert.equal(statSync(join(adminDir(dir), f)).mode & 0o777, 0o600, f);
    const port = running.adminPort as number;
    // Another admin CA's operator: the handshake fails, no handler runs.
    const other = mkdtempSync(join(tmpdir(), "keyward-admin-other-"));
    try {
      const foreign = initAdminCredentials(other);
      const stranger = connectAdmin(
        { ...foreign, caPem: loadAdminClientCredentials(dir).caPem },
        { host: "127.0.0.1", port },
        { "x-keyward-step-up": "ok" },
      );
      assert.notEqual(await code(stranger.listSecrets({})), "resolved");
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    // No client certificate at all: the server ends the handshake.
    const closed = await new Promise<string>((resolve) => {
      const s = http2Connect(`https://127.0.0.1:${port}`, { ca: loadAdminClientCredentials(dir).caPem });
      s.on("error", (e) => resolve((e as NodeJS.ErrnoException).code ?? "error"));
      s.on("connect", () => {
        const r = s.request({ ":path": "/keyward.v1.AdminService/ListSecrets", ":method": "POST" });
        r.on("response", () => resolve("answered"));
        r.on("error", (e) => resolve((e as NodeJS.ErrnoException).code ?? "error"));
        r.end();
      });
    });
    assert.notEqual(closed, "answered");
  });

  it("puts, lists and deletes secrets; workloads see each change", async () => {
    assert.equal(
      (await admin.putSecret({ name: "apps/db", value: new TextEncoder().encode("pw-1") })).version,
      1,
    );
    assert.equal(
      (await admin.putSecret({ name: "apps/db", value: new TextEncoder().encode("pw-2") })).version,
      2,
    );
    const workload = await clientAs(platform, running.port, 0xa1);
    const got = await workload.getSecrets({});
    assert.equal(new TextDecoder().decode(got.secrets[0]?.value), "pw-2");
    assert.deepEqual(
      (await admin.listSecrets({})).secrets.map((s) => [s.name, s.version]),
      [["apps/db", 2]],
    );
    assert.equal((await admin.deleteSecret({ name: "apps/db" })).existed, true);
    assert.equal(await code(workload.getSecrets({})), "ERR_SERVICE_SECRET_NOT_FOUND");
    assert.equal((await admin.deleteSecret({ name: "apps/db" })).existed, false);
    assert.equal(
      await code(admin.putSecret({ name: "no spaces!", value: new Uint8Array(1) })),
      "ERR_SERVICE_REQUEST_INVALID",
    );
  });

  it("stores YAML policies that take effect, names problems by path, and refuses a file's id", async () => {
    await admin.putSecret({ name: "apps/cache", value: new TextEncoder().encode("c") });
    const newcomer = await clientAs(platform, running.port, 0xb2);
    assert.equal(await code(newcomer.getSecrets({})), "ERR_SERVICE_DENIED");
    const put = await admin.putPolicy({
      document: `id: cache\nmr_enclave: "${hex(mr(0xb2))}"\nplatforms: [simulated]\nsecrets:\n  cache_key: apps/cache\n`,
      format: "",
    });
    assert.deepEqual([put.id, put.version], ["cache", 1]);
    assert.equal((await newcomer.getSecrets({})).policyId, "cache");

    const bad = admin.putPolicy({ document: '{"id":"x","mr_enclave":"zz","colour":1}', format: "json" });
    const e = await bad.then(
      () => assert.fail("accepted"),
      (x) => fromConnectError(x),
    );
    assert.equal(e.code, "ERR_POLICY_INVALID");
    assert.match(e.message, /mr_?[eE]nclave/);
    assert.match(e.message, /colour: unknown field/);
    assert.equal(
      await code(admin.putPolicy({ document: '{"id":"app","platforms":["simulated"]}', format: "json" })),
      "ERR_SERVICE_POLICY_CONFLICT",
    );
    const listed = (await admin.listPolicies({})).policies;
    assert.deepEqual(
      listed.map((p) => [p.id, p.source, p.version]),
      [
        ["app", "file:app.json", 0],
        ["cache", "store", 1],
      ],
    );
    assert.ok(!JSON.stringify(listed).includes("vault-token-never-listed"));
    assert.match(listed[0]?.document ?? "", /"appToken":"\[redacted\]"/);
    assert.equal((await admin.deletePolicy({ id: "cache" })).existed, true);
    assert.equal(await code(newcomer.getSecrets({})), "ERR_SERVICE_DENIED");
  });

  it("explains a stored denial rule by rule, and appraises given evidence", async () => {
    const stranger = await clientAs(platform, running.port, 0xee);
    assert.equal(await code(stranger.getSecrets({})), "ERR_SERVICE_DENIED");
    const entries = (await admin.readAudit({ fromSeq: 1n, limit: 0 })).entries;
    const denial = [...entries].reverse().find((e) => e.action === "secrets.get" && e.outcome === "denied");
    assert.ok(denial !== undefined);
    const x = await admin.explain({ subject: { case: "auditSeq", value: denial.seq }, policyId: "" });
    assert.equal(x.acceptedPolicyId, "");
    const rule = x.appraisals[0]?.rules.find((r) => r.rule === "mrEnclave");
    assert.deepEqual([rule?.passed, rule?.actual, rule?.expected], [false, hex(mr(0xee)), hex(mr(0xa1))]);
    assert.equal(JSON.parse(x.claimsJson).platform, "simulated");

    // Given evidence: a workload's RA-TLS certificate, PEM.
    const { issueRaTlsCertificate } = await import("@keyward/platform/ratls");
    const { simulatedPlatformAttester } = await import("@keyward/platform/sim");
    const cred = await issueRaTlsCertificate({
      attester: simulatedPlatformAttester(platform, {
        mrEnclave: mr(0xa1),
        mrSigner: mr(1),
        isvProdId: 1,
        isvSvn: 1,
      }),
    });
    const y = await admin.explain({
      subject: { case: "evidence", value: new TextEncoder().encode(cred.certificatePem) },
      policyId: "app",
    });
    assert.equal(y.acceptedPolicyId, "app");
    assert.ok(y.appraisals[0]?.rules.every((r) => r.passed));
    // Malformed evidence: a stable code, never an internal error.
    const malformed = await code(
      admin.explain({ subject: { case: "evidence", value: new Uint8Array([0x30, 3, 1, 2]) }, policyId: "" }),
    );
    assert.match(malformed, /^ERR_(DER|X509|BYTES)_/);
    const badPem = new TextEncoder().encode("-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n");
    assert.equal(
      await code(admin.explain({ subject: { case: "evidence", value: badPem }, policyId: "" })),
      "ERR_ENCODING_INVALID",
    );
    // An entry that records no attestation decision (an admin change) cannot be replayed.
    const change = entries.find((e) => e.action === "secret.put") ?? assert.fail("no secret.put entry");
    assert.equal(
      await code(admin.explain({ subject: { case: "auditSeq", value: change.seq }, policyId: "" })),
      "ERR_SERVICE_REQUEST_INVALID",
    );
    assert.equal(
      await code(admin.explain({ subject: { case: "auditSeq", value: 99999n }, policyId: "" })),
      "ERR_SERVICE_NOT_FOUND",
    );
    assert.equal(
      await code(admin.explain({ subject: { case: "auditSeq", value: denial.seq }, policyId: "nope" })),
      "ERR_SERVICE_NOT_FOUND",
    );
  });

  it("audits every change under the operator's certificate, and verifies the chain", async () => {
    const entries = (await admin.readAudit({ fromSeq: 1n, limit: 0 })).entries;
    const changes = entries.filter((e) => /^(secret|policy|key)\./.test(e.action));
    assert.ok(changes.length >= 6);
    for (const e of changes) assert.match(e.subject, /^admin:admin:[0-9a-f]{16}$/);
    assert.ok(!JSON.stringify(entries, (_k, v) => (typeof v === "bigint" ? String(v) : v)).includes("pw-2"));
    const v = await admin.verifyAudit({});
    assert.equal(v.ok, true);
    assert.equal(Number(v.entries), entries.length);
  });

  it("refuses changes without the second factor, leaving the store untouched; reads still work", async () => {
    const port = running.adminPort as number;
    const plain = connectAdmin(loadAdminClientCredentials(dir), { host: "127.0.0.1", port });
    const before = Number((await plain.verifyAudit({})).entries);
    assert.equal(
      await code(plain.putSecret({ name: "apps/x", value: new Uint8Array(1) })),
      "ERR_ADMIN_STEP_UP_REQUIRED",
    );
    assert.equal(
      await code(plain.createKey({ keyId: "k", algorithm: "P-256" })),
      "ERR_ADMIN_STEP_UP_REQUIRED",
    );
    assert.equal(Number((await plain.verifyAudit({})).entries), before);
    assert.ok(!(await plain.listSecrets({})).secrets.some((s) => s.name === "apps/x"));
    assert.equal((await admin.createKey({ keyId: "k", algorithm: "P-256" })).version, 1);
    assert.equal(
      await code(admin.createKey({ keyId: "k2", algorithm: "DES" })),
      "ERR_SERVICE_REQUEST_INVALID",
    );
  });

  // A 200 MB put-secret was once read whole before it was refused. The request declares 200 MB in
  // its gRPC length prefix and streams its body: the refusal must come after a few chunks.
  it("refuses an over-limit request from its length prefix, before its body is read", async () => {
    const port = running.adminPort ?? assert.fail("no admin listener");
    const creds = loadAdminClientCredentials(dir);
    const session = http2Connect(`https://localhost:${port}`, {
      ca: creds.caPem,
      cert: creds.certPem,
      key: creds.keyPem,
    });
    try {
      const stream = session.request({
        ":path": "/keyward.v1.AdminService/PutSecret",
        ":method": "POST",
        "content-type": "application/grpc+proto",
        te: "trailers",
      });
      const declared = 200 * 1024 * 1024;
      const prefix = new Uint8Array(5);
      new DataView(prefix.buffer).setUint32(1, declared);
      let written = 0;
      let status: string | undefined;
      const answered = new Promise<void>((resolve) => {
        stream.on("response", (h) => {
          status ??= h["grpc-status"] as string | undefined;
        });
        stream.on("trailers", (h) => {
          status ??= h["grpc-status"] as string | undefined;
          resolve();
        });
        stream.on("close", () => resolve());
        stream.on("error", () => resolve());
      });
      let done = false;
      void answered.then(() => {
        done = true;
      });
      stream.write(prefix);
      const chunk = new Uint8Array(256 * 1024);
      while (!done && written < 16 * 1024 * 1024) {
        const more = stream.write(chunk);
        written += chunk.byteLength;
        if (!more) await Promise.race([new Promise((r) => stream.once("drain", r)), answered]);
      }
      assert.ok(done, `no answer after ${written} bytes of ${declared}: the body is being read`);
      await answered;
      assert.equal(status, "8", "RESOURCE_EXHAUSTED");
      assert.ok(written < 16 * 1024 * 1024, `refused after ${written} bytes of ${declared}`);
      stream.destroy();
    } finally {
      session.destroy();
    }
  });
});
