/**
 * Hardware mode, as far as it can run without SGX hardware: callers verified against Intel's root
 * with collateral fetched from a PCCS (a local server answering with Intel's recorded responses for
 * the vector's FMSPC), a real RA-TLS certificate from SGX hardware (Gramine) explained through the
 * Admin listener, simulated evidence refused, and the master key sealed to the service's identity.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { collateralProviderFor } from "@keyward/channels/collateral";
import { initSimPlatform, type SimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";
import { fromConnectError } from "../../src/errors/connect.ts";
import { connectAdmin } from "../../src/features/admin/client.ts";
import { initAdminCredentials, loadAdminClientCredentials } from "../../src/features/admin/credentials.ts";
import { loadOrCreateSealedMasterKey } from "../../src/kernel/master-key.ts";
import { hardwareTrust, SIM_SERVICE_MEASUREMENT } from "../../src/kernel/trust.ts";
import { loadServiceConfig, type RunningKeyward, runService } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import { clientAs, mr } from "./helpers.ts";
import { type RecordedPccs, startRecordedPccs } from "./recorded-pccs.ts";

const VECTORS = fileURLToPath(new URL("../../../attest/test/vectors/", import.meta.url));
const GRAMINE_PEM = readFileSync(join(VECTORS, "ratls", "gramine-cert.pem"), "utf8");
const GRAMINE_DER = new Uint8Array(readFileSync(join(VECTORS, "ratls", "gramine-cert.der")));
// Inside the collateral's validity window (see ratls/NOTES.md: same FMSPC as automata-sgx-v3).
const AT = new Date("2025-08-15T05:45:00Z");
const GRAMINE_MRENCLAVE = "0866e7ca";

let pccs: RecordedPccs;
let pccsUrl = "";
let hits: string[] = [];
const work = mkdtempSync(join(tmpdir(), "keyward-hw-"));
const silent = createLogger({ write: () => undefined } as unknown as NodeJS.WritableStream);

before(async () => {
  // A PCCS answering PCS v4 paths with Intel's recorded responses (headers carry the issuer chains).
  pccs = await startRecordedPccs();
  pccsUrl = pccs.url;
  hits = pccs.hits;
});
after(async () => {
  await pccs.close();
  rmSync(work, { recursive: true, force: true });
});

describe("hardware trust (Intel root, collateral from a PCCS)", () => {
  it("verifies a real Gramine RA-TLS certificate with collateral fetched for its FMSPC", async () => {
    const verify = hardwareTrust(collateralProviderFor(pccsUrl));
    const v = await verify(GRAMINE_DER, AT);
    assert.equal(v.verified.platform, "hardware");
    assert.equal(v.verified.tcbStatus, "OutOfDate");
    assert.equal(v.verified.claims.debug, true);
    assert.ok(hits.includes("/sgx/certification/v4/tcb"));
  });

  it("refuses simulated evidence (not under Intel's root) and evidence once its collateral expired", async () => {
    const sim = initSimPlatform(join(work, "sim-a"), { now: new Date() });
    const { issueRaTlsCertificate } = await import("@keyward/platform/ratls");
    const cred = await issueRaTlsCertificate({
      attester: simulatedPlatformAttester(sim, {
        mrEnclave: mr(1),
        mrSigner: mr(2),
        isvProdId: 1,
        isvSvn: 1,
      }),
    });
    const verify = hardwareTrust(collateralProviderFor(pccsUrl));
    const der = new Uint8Array(
      Buffer.from(cred.certificatePem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64"),
    );
    await assert.rejects(
      Promise.resolve().then(() => verify(der, new Date())),
      (e: Error & { code?: string }) => /^ERR_(X509|DCAP|COLLATERAL|CRL)_/.test(e.code ?? ""),
    );
    await assert.rejects(
      Promise.resolve().then(() => verify(GRAMINE_DER, new Date("2025-10-01T00:00:00Z"))),
      (e: Error & { code?: string }) => /EXPIRED/.test(e.code ?? ""),
    );
  });
});

describe("the master key sealed to the service", () => {
  let sim: SimPlatform;
  before(() => {
    sim = initSimPlatform(join(work, "sim-b"), { now: new Date() });
  });
  const service = (signer: number, svn = 2) =>
    simulatedPlatformAttester(sim, {
      mrEnclave: mr(0x10 + svn),
      mrSigner: mr(signer),
      isvProdId: 1,
      isvSvn: svn,
    });

  it("is created once (0600), unsealed again by the same signer, and by a newer version of it", async () => {
    const path = join(work, "master.key.sealed");
    const k1 = await loadOrCreateSealedMasterKey(service(7), path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(!readFileSync(path).includes(Buffer.from(k1)), "the key is not stored in clear");
    assert.deepEqual(await loadOrCreateSealedMasterKey(service(7), path), k1);
    assert.deepEqual(await loadOrCreateSealedMasterKey(service(7, 3), path), k1);
  });

  it("does not unseal for another signer, an older version, or an edited file", async () => {
    const path = join(work, "master.key.sealed");
    await assert.rejects(loadOrCreateSealedMasterKey(service(8), path), { code: "ERR_SERVICE_MASTER_KEY" });
    await assert.rejects(loadOrCreateSealedMasterKey(service(7, 1), path), {
      code: "ERR_SERVICE_MASTER_KEY",
    });
    const edited = readFileSync(path);
    edited[edited.length - 1] = (edited[edited.length - 1] as number) ^ 1;
    const copy = join(work, "edited.sealed");
    writeFileSync(copy, edited);
    await assert.rejects(loadOrCreateSealedMasterKey(service(7), copy), { code: "ERR_SERVICE_MASTER_KEY" });
  });
});

describe("keyward serve in hardware mode", () => {
  let running: RunningKeyward;
  let sim: SimPlatform;
  const dir = join(work, "serve");
  before(async () => {
    mkdirSync(join(dir, "policies"), { recursive: true });
    writeFileSync(
      join(dir, "policies", "gramine.yaml"),
      // The vector comes from a debug enclave on an out-of-date platform: allowed here explicitly.
      `id: gramine-debug\nmrEnclave: [${JSON.stringify(`${GRAMINE_MRENCLAVE}${"0".repeat(56)}`)}]\nallowDebug: true\n`,
    );
    initAdminCredentials(dir);
    sim = initSimPlatform(join(work, "sim-c"), { now: new Date() });
    const config = loadServiceConfig(dir, { listen: "127.0.0.1:0", adminListen: "127.0.0.1:0", pccsUrl }, {});
    running = await runService(config, silent, {
      // No SGX here: the service's own evidence comes from an injected attester. It reports the
      // measurement clientAs() expects, so a refusal below is the service's.
      attester: simulatedPlatformAttester(sim, {
        mrEnclave: SIM_SERVICE_MEASUREMENT,
        mrSigner: SIM_SERVICE_MEASUREMENT,
        isvProdId: 1,
        isvSvn: 1,
      }),
      now: () => AT,
    });
  });
  after(() => running?.shutdown());

  it("runs in hardware mode with its master key sealed, not in a key file", () => {
    assert.equal(running.mode, "hardware");
    assert.equal(statSync(join(dir, "master.key.sealed")).mode & 0o777, 0o600);
    assert.throws(() => statSync(join(dir, "master.key")));
  });

  it("refuses a simulated workload, whatever the policies say", async () => {
    // The client verifies the service and connects; the service then refuses its evidence and
    // closes the connection before any request is answered.
    const client = await clientAs(sim, running.port, 0x61);
    const e = await client.getSecrets({}).then(
      () => assert.fail("a simulated workload was served in hardware mode"),
      (err) => fromConnectError(err),
    );
    assert.doesNotMatch(e.code, /^ERR_SERVICE_(DENIED|SECRET)/);
  });

  it("explains a real hardware certificate against its policies, rule by rule", async () => {
    const admin = connectAdmin(loadAdminClientCredentials(dir), {
      host: "127.0.0.1",
      port: running.adminPort as number,
    });
    const x = await admin.explain({
      subject: { case: "evidence", value: new TextEncoder().encode(GRAMINE_PEM) },
      policyId: "gramine-debug",
    });
    const claims = JSON.parse(x.claimsJson);
    assert.equal(claims.platform, "hardware");
    const failed = x.appraisals[0]?.rules.filter((r) => !r.passed).map((r) => r.rule);
    // The MRENCLAVE prefix above is not the full value, and OutOfDate is not accepted by default.
    assert.deepEqual(failed, ["tcbStatus", "mrEnclave"]);
    const e = await admin
      .explain({ subject: { case: "evidence", value: new Uint8Array([1, 2, 3]) }, policyId: "" })
      .then(
        () => assert.fail("accepted"),
        (err) => fromConnectError(err),
      );
    assert.match(e.code, /^ERR_(QUOTE|DCAP|BYTES)_/);
  });
});
