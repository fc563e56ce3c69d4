/**
 * Logs and metrics as an operator sees them: after each kind of call the ops listener's /metrics
 * (scraped over HTTP) has that call's series — requests by method, decision and TEE, latency per
 * method, attestation cold and warm, the audit queue and commits, store errors, OTP failures and
 * lockouts, process metrics; in hardware mode, collateral cache hits, misses and fetch errors.
 * Every request writes exactly one `request` log line with its id, method, caller, decision,
 * policy and latency, and no log line carries a secret value, a token, an OTP code or secret, or
 * key material.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { initSimPlatform, type SimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";
import { SecretProvisioningService } from "@keyward/proto/keyward/v1";
import { SIM_SERVICE_MEASUREMENT } from "../../src/kernel/trust.ts";
import { FEATURE_MIGRATIONS, loadServiceConfig, type RunningKeyward, runService } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { clientAs, hex, mr, seedPolicy, simulatedCaller } from "./helpers.ts";
import { CapturedLog, codeAt, codeOf, otpDataDir, startOtpReplica, TestClock } from "./otp-fixture.ts";
import { type RecordedPccs, startRecordedPccs } from "./recorded-pccs.ts";

const T0 = Date.UTC(2030, 0, 1, 0, 0, 10);
const APP = 0x50; // granted the secret
const STRANGER = 0x99; // no policy
const READER = 0x52; // its release needs a code from db-reader
const ENROLLER = 0xe1;
const SECRET_VALUE = "db-password-value";
const APP_TOKEN = "not-a-real-token";

const policies = [
  seedPolicy("app", APP),
  seedPolicy("enroller", ENROLLER, { otpEnrollment: ["db-reader"] }),
  seedPolicy("reader", READER, { otpRequired: [{ account: "db-reader", actions: ["secrets.get"] }] }),
];

async function scrape(port: number | undefined): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${String(port)}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return r.text();
}

/** The value of one series (labels exactly as given, in prom-client's order), or undefined. */
function value(text: string, series: string): number | undefined {
  for (const line of text.split("\n"))
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

function requestLines(log: CapturedLog): Record<string, unknown>[] {
  return log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "request");
}

const GET = "keyward.v1.SecretProvisioningService/GetSecrets";

describe("observability on a running service (simulation)", () => {
  const clock = new TestClock(T0);
  const log = new CapturedLog();
  let fx: Awaited<ReturnType<typeof otpDataDir>>;
  let svc: Awaited<ReturnType<typeof startOtpReplica>>;
  let ops: number | undefined;
  let enrolled: Uint8Array = new Uint8Array();
  const codesSent: string[] = [];

  before(async () => {
    fx = await otpDataDir((d) => openSqliteStore(d, { migrations: FEATURE_MIGRATIONS }));
    svc = await startOtpReplica({
      ...fx,
      policies,
      clock,
      log,
      flags: { opsListen: "127.0.0.1:0", otpMaxFailures: "2", otpClientMaxFailures: "1000" },
    });
    ops = svc.running.opsPort;
    await svc.otpAdmin.createAccount({ name: "db-reader", issuer: "ACME" });
    enrolled = (await (await svc.app(ENROLLER)).enrollment.enroll({ account: "db-reader" })).secret;
  });
  after(async () => {
    await svc.running.shutdown();
    rmSync(fx.dir, { recursive: true, force: true });
  });

  it("serves process metrics and the kernel's instruments before any call", async () => {
    const text = await scrape(ops);
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
    ])
      assert.match(text, new RegExp(`^${name} `, "m"), name);
    assert.match(text, /^# TYPE keyward_request_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE keyward_audit_queue_depth gauge$/m);
  });

  it("counts an allowed release by method, decision and TEE, with its latency and a cold attestation", async () => {
    const app = await svc.app(APP);
    const r = await app.secrets.getSecrets({}, { headers: { "x-request-id": "req-allowed-1" } });
    const got = r.secrets.find((x) => x.name === "master_key")?.value;
    assert.equal(new TextDecoder().decode(got), SECRET_VALUE);
    const text = await scrape(ops);
    assert.equal(value(text, `keyward_requests_total{method="${GET}",decision="allowed",tee="sgx"}`), 1);
    assert.equal(value(text, `keyward_request_duration_seconds_count{method="${GET}"}`), 1);
    assert.equal(
      value(text, `keyward_gate_decisions_total{action="secrets.get",outcome="allowed",tee="sgx"}`),
      1,
    );
    assert.ok(
      (value(
        text,
        'keyward_attestation_verification_duration_seconds_count{tee="sgx",cache="cold",result="verified"}',
      ) ?? 0) >= 1,
    );
    assert.ok((value(text, "keyward_audit_commit_duration_seconds_count") ?? 0) >= 1);
    assert.equal(value(text, "keyward_audit_queue_depth"), 0, "nothing left waiting for its commit");

    const [line] = requestLines(log).filter((l) => l.requestId === "req-allowed-1");
    assert.ok(line !== undefined, "the request's line carries the caller's request id");
    assert.equal(line.method, GET);
    assert.equal(line.listener, "service");
    assert.deepEqual(line.caller, { tee: "sgx", measurement: hex(mr(APP)), via: "ra-tls" });
    assert.equal(line.action, "secrets.get");
    assert.equal(line.decision, "allowed");
    assert.equal(line.policy, "app");
    assert.equal(typeof line.latencyMs, "number");
  });

  it("counts a warm attestation when a second connection presents the same certificate", async () => {
    const { credential, peerVerifier } = await simulatedCaller(fx.platform, APP);
    for (let i = 0; i < 2; i++) {
      const { transport } = await createRaTlsGrpcTransport({
        host: "127.0.0.1",
        port: svc.port,
        credential,
        peerVerifier,
      });
      await createClient(SecretProvisioningService, transport).getSecrets({});
    }
    const text = await scrape(ops);
    assert.ok(
      (value(
        text,
        'keyward_attestation_verification_duration_seconds_count{tee="sgx",cache="warm",result="verified"}',
      ) ?? 0) >= 1,
      text,
    );
  });

  it("counts a denied caller, and writes its line at warning with the code", async () => {
    const stranger = await svc.app(STRANGER);
    assert.equal(await codeOf(stranger.secrets.getSecrets({})), "ERR_SERVICE_DENIED");
    const text = await scrape(ops);
    assert.equal(value(text, `keyward_requests_total{method="${GET}",decision="denied",tee="sgx"}`), 1);
    const line = requestLines(log).find((l) => l.decision === "denied");
    assert.ok(line !== undefined);
    assert.equal(line.code, "ERR_SERVICE_DENIED");
    assert.equal(line.level, 40);
    assert.deepEqual(line.caller, { tee: "sgx", measurement: hex(mr(STRANGER)), via: "ra-tls" });
  });

  it("counts KMS calls and admin calls (tee none, decision ok) under their methods", async () => {
    const app = await svc.app(APP);
    assert.equal(await codeOf(app.kms.getPublicKey({ keyId: "none" })), "ERR_SERVICE_DENIED");
    await svc.admin.listSecrets({});
    const text = await scrape(ops);
    assert.equal(
      value(
        text,
        'keyward_requests_total{method="keyward.v1.KeyManagementService/GetPublicKey",decision="denied",tee="sgx"}',
      ),
      1,
    );
    assert.equal(
      value(
        text,
        'keyward_requests_total{method="keyward.v1.AdminService/ListSecrets",decision="ok",tee="none"}',
      ),
      1,
    );
    const line = requestLines(log).find((l) => l.method === "keyward.v1.AdminService/ListSecrets");
    assert.equal(line?.listener, "admin");
    assert.match(String(line?.operator), /^admin:admin:[0-9a-f]{16}$/);
  });

  it("writes an admin call refused with a Keyward code under that code, at warning (not as an internal error)", async () => {
    const code = await codeOf(svc.admin.putPolicy({ document: '{"id": 7}', format: "json" }));
    assert.match(code, /^ERR_/);
    assert.notEqual(code, "ERR_INTERNAL");
    const line = requestLines(log).find((l) => l.method === "keyward.v1.AdminService/PutPolicy");
    assert.equal(line?.code, code);
    assert.equal(line?.decision, "error");
    assert.equal(line?.level, 40);
  });

  it("counts one-time codes refused and the lockout that follows", async () => {
    const reader = await svc.app(READER);
    const wrong = (n: number) =>
      String((Number(codeAt(enrolled, clock.ms)) + n) % 1_000_000).padStart(6, "0");
    for (const n of [1, 2]) {
      const code = wrong(n);
      codesSent.push(code);
      assert.equal(
        await codeOf(reader.secrets.getSecrets({}, { headers: { "keyward-otp": `db-reader:${code}` } })),
        "ERR_OTP_INVALID",
      );
    }
    const right = codeAt(enrolled, clock.ms);
    codesSent.push(right);
    assert.equal(
      await codeOf(reader.secrets.getSecrets({}, { headers: { "keyward-otp": `db-reader:${right}` } })),
      "ERR_OTP_LOCKED",
    );
    const text = await scrape(ops);
    assert.equal(value(text, 'keyward_otp_failures_total{reason="invalid"}'), 2);
    assert.equal(value(text, 'keyward_otp_failures_total{reason="locked"}'), 1);
    assert.equal(value(text, "keyward_otp_lockouts_total"), 1);
  });

  it("counts a store operation that fails in the database", async () => {
    await assert.rejects(svc.running.store.sql.get("SELECT * FROM no_such_table", []));
    const text = await scrape(ops);
    assert.equal(value(text, 'keyward_store_errors_total{operation="sql.get"}'), 1);
  });

  it("writes one request line per call, and no secret, token, code or key in any line", () => {
    const lines = requestLines(log);
    for (const l of lines) {
      assert.match(String(l.requestId), /^[A-Za-z0-9._:-]{1,64}$/);
      assert.equal(typeof l.method, "string");
      assert.ok(["allowed", "denied", "error", "ok"].includes(String(l.decision)), String(l.decision));
    }
    // Every observed request was counted once and logged once.
    const ids = lines.map((l) => l.requestId);
    assert.equal(new Set(ids).size, ids.length, "one line per request");
    const all = log.lines.join("");
    const forbidden = [
      SECRET_VALUE,
      Buffer.from(SECRET_VALUE).toString("base64"),
      APP_TOKEN,
      Buffer.from(enrolled).toString("hex"),
      Buffer.from(enrolled).toString("base64"),
      Buffer.from(readFileSync(join(fx.dir, "master.key")))
        .toString("hex")
        .slice(0, 32),
      "PRIVATE KEY",
      ...codesSent.map((c) => `db-reader:${c}`),
    ];
    for (const f of forbidden) assert.ok(!all.includes(f), `no log line contains ${f.slice(0, 12)}…`);
    for (const c of codesSent) assert.ok(!new RegExp(`\\b${c}\\b`).test(all), "no one-time code in the logs");
  });
});

describe("observability in hardware mode: collateral", () => {
  const work = mkdtempSync(join(tmpdir(), "keyward-obs-hw-"));
  let pccs: RecordedPccs;
  let running: RunningKeyward;
  let platform: SimPlatform;

  before(async () => {
    // A PCCS with Intel's recorded responses; it answers 503 until told otherwise.
    pccs = await startRecordedPccs({ failing: true });
    mkdirSync(join(work, "policies"), { recursive: true });
    writeFileSync(join(work, "policies", "none.yaml"), `id: none\nmrEnclave: ["${"00".repeat(32)}"]\n`);
    platform = initSimPlatform(join(work, "sim"), { now: new Date() });
    const config = loadServiceConfig(
      work,
      {
        listen: "127.0.0.1:0",
        opsListen: "127.0.0.1:0",
        pccsUrl: pccs.url,
      },
      {},
    );
    running = await runService(config, createLogger(new CapturedLog().stream), {
      attester: simulatedPlatformAttester(platform, {
        mrEnclave: SIM_SERVICE_MEASUREMENT,
        mrSigner: SIM_SERVICE_MEASUREMENT,
        isvProdId: 1,
        isvSvn: 1,
      }),
      // Inside the recorded collateral's validity, so that what was fetched stays cached.
      now: () => new Date("2025-08-15T05:45:00Z"),
    });
  });
  after(async () => {
    await running?.shutdown();
    await pccs.close();
    rmSync(work, { recursive: true, force: true });
  });

  // A workload connects; in hardware mode its simulated evidence is refused after its collateral
  // was looked up. The lookups are what is counted here.
  const connect = async () => {
    const client = await clientAs(platform, running.port, 0x61);
    await client.getSecrets({}).catch(() => undefined);
  };

  it("counts a collateral fetch error, then a miss (fetched), then a hit (cached)", async () => {
    await connect();
    let text = await scrape(running.opsPort);
    assert.ok(
      (value(text, 'keyward_collateral_fetch_errors_total{code="ERR_COLLATERAL_FETCH_FAILED"}') ?? 0) >= 1,
      text,
    );
    pccs.failing = false;
    await connect();
    await connect();
    text = await scrape(running.opsPort);
    assert.ok((value(text, 'keyward_collateral_cache_requests_total{result="miss"}') ?? 0) >= 2);
    assert.ok((value(text, 'keyward_collateral_cache_requests_total{result="hit"}') ?? 0) >= 1, text);
    assert.ok(
      (value(
        text,
        'keyward_attestation_verification_duration_seconds_count{tee="sgx",cache="cold",result="refused"}',
      ) ?? 0) >= 1,
      text,
    );
  });
});
