/**
 * One release gate, two release paths: the same table of requests sent as GetSecrets over mutual
 * RA-TLS and through the challenge path (Challenge → Attest → GetSecretsWithToken) gets the same
 * decision (status and Keyward code) and the same audit entries — only how the caller
 * authenticated (`detail.via`) differs. Also: every KMS operation is a gate release, audited and
 * counted like GetSecrets.
 */
import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ConnectError, createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { ChallengeService } from "@keyward/proto/keyward/v1";
import type { AuditEntry } from "../../src/audit/chain.ts";
import { challengeReportData } from "../../src/features/secrets/challenge.ts";
import { createOrRotateKey } from "../../src/kernel/keys.ts";
import { SIM_SERVICE_MEASUREMENT } from "../../src/kernel/trust.ts";
import { POLICY_READER } from "../../src/main.ts";
import { clientAs, hex, kmsClientAs, mr, seedPolicy, startFixture } from "./helpers.ts";

interface Row {
  readonly name: string;
  readonly enclave: number;
  readonly debug?: boolean;
  readonly names: readonly string[];
  /** The expected decision: "OK" or the Keyward code. */
  readonly expect: string;
}

const TABLE: readonly Row[] = [
  { name: "allowed", enclave: 0xe1, names: ["master_key"], expect: "OK" },
  { name: "allowed, every granted name", enclave: 0xe3, names: [], expect: "OK" },
  {
    name: "denied: a name the policy does not grant",
    enclave: 0xe1,
    names: ["not_granted"],
    expect: "ERR_SERVICE_DENIED",
  },
  {
    name: "denied: no policy accepts the enclave",
    enclave: 0xe9,
    names: ["master_key"],
    expect: "ERR_SERVICE_DENIED",
  },
  { name: "oversized name", enclave: 0xe1, names: ["n".repeat(257)], expect: "ERR_SERVICE_REQUEST_INVALID" },
  {
    name: "too many names",
    enclave: 0xe1,
    names: Array.from({ length: 257 }, (_, i) => `n${i}`),
    expect: "ERR_SERVICE_REQUEST_INVALID",
  },
  {
    name: "unknown secret (granted, not stored)",
    enclave: 0xe1,
    names: ["missing"],
    expect: "ERR_SERVICE_SECRET_NOT_FOUND",
  },
  { name: "debug enclave", enclave: 0xe1, debug: true, names: ["master_key"], expect: "ERR_SERVICE_DENIED" },
  {
    name: "simulated platform under a hardware-only policy",
    enclave: 0xe2,
    names: ["k"],
    expect: "ERR_SERVICE_DENIED",
  },
];

const codeOf = (e: unknown): string => {
  if (!(e instanceof ConnectError)) throw e;
  return /^(ERR_[A-Z0-9_]+):/.exec(e.rawMessage)?.[1] ?? `status ${e.code}`;
};

// An entry as the gate decided it: without its place in the chain, how the caller came in, and
// the report data (which binds the TLS key on one path, the nonce and ephemeral key on the other).
const decided = (e: AuditEntry) => {
  // The claims record is stored once and referenced by hash (claimsRef, which covers the report data).
  const { via, claims: _embedded, claimsRef: _ref, ...detail } = e.detail ?? {};
  const record = e.claims as { claims?: Record<string, unknown> } | undefined;
  const { reportData, ...evidence } = record?.claims ?? {};
  return {
    action: e.action,
    outcome: e.outcome,
    subject: e.subject,
    policyId: e.policyId,
    detail: { ...detail, ...(record === undefined ? {} : { claims: { ...record, claims: evidence } }) },
  };
};

describe("one release gate for GetSecrets over mutual RA-TLS and the challenge path", () => {
  let f: Awaited<ReturnType<typeof startFixture>>;
  let challenge: ReturnType<typeof createClient<typeof ChallengeService>>;
  before(async () => {
    f = await startFixture([
      seedPolicy("app", 0xe1, {
        secrets: { master_key: "occlum/1/image_key", missing: "does/not/exist" },
      }),
      seedPolicy("all", 0xe3),
      // Hardware only (the default): the simulated platform's evidence is refused.
      POLICY_READER.policy(
        { id: "hw", mr_enclave: hex(mr(0xe2)), secrets: { k: "occlum/1/image_key" } },
        "hw.json",
      ),
    ]);
    const root = parsePemCertificates(f.platform.rootCertificatePem)[0];
    if (root === undefined) throw new Error("no root");
    const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
    const collateral = parseCollateralJson(f.platform.collateralJson("sgx"));
    const service = policyFromObject(
      { id: "svc", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
      "t",
    );
    const { transport } = await createRaTlsGrpcTransport({
      host: "127.0.0.1",
      port: f.running.challengePort ?? assert.fail("no challenge listener"),
      peerVerifier: createPeerVerifier({
        verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy: service }),
      }),
    });
    challenge = createClient(ChallengeService, transport);
  });
  after(async () => {
    await f.service.close();
  });

  const newEntries = async (run: () => Promise<string>) => {
    const before = (await f.store.readAudit()).length;
    const decision = await run();
    return { decision, entries: (await f.store.readAudit()).slice(before) };
  };

  const overMutualRaTls = async (row: Row) => {
    const client = await clientAs(f.platform, f.service.port, row.enclave, row.debug === true);
    try {
      await client.getSecrets({ names: [...row.names] });
      return "OK";
    } catch (e) {
      return codeOf(e);
    }
  };

  const overChallenge = async (row: Row) => {
    const e = createECDH("prime256v1");
    const epk = new Uint8Array(e.generateKeys());
    const { nonce } = await challenge.challenge({});
    const reportData = new Uint8Array(64);
    reportData.set(challengeReportData(nonce, epk));
    const quote = f.platform.quoteSgx({
      mrEnclave: mr(row.enclave),
      mrSigner: mr(0x55),
      isvProdId: 1,
      isvSvn: 1,
      reportData,
      // INIT | MODE64BIT (and DEBUG for a debug enclave), XFRM 3: as the simulated attester sets them.
      attributes: Uint8Array.of(
        row.debug === true ? 0x07 : 0x05,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        3,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
      ),
    });
    try {
      const { token } = await challenge.attest({ nonce, quote, ephemeralPublicKey: epk });
      await challenge.getSecretsWithToken({ token, names: [...row.names] });
      return "OK";
    } catch (err) {
      return codeOf(err);
    }
  };

  for (const row of TABLE)
    it(`${row.name}: ${row.expect} on both paths, with the same audit entries`, async () => {
      const a = await newEntries(() => overMutualRaTls(row));
      const b = await newEntries(() => overChallenge(row));
      assert.equal(a.decision, row.expect, "mutual RA-TLS");
      assert.equal(b.decision, row.expect, "challenge path");
      assert.equal(a.entries.length, 1, "one audit entry per decision (mutual RA-TLS)");
      assert.deepEqual(b.entries.map(decided), a.entries.map(decided));
      assert.deepEqual([a.entries[0]?.detail?.via, b.entries[0]?.detail?.via], ["ra-tls", "challenge"]);
      const entry = a.entries[0] as AuditEntry;
      assert.equal(
        entry.outcome,
        row.expect === "OK" ? "allowed" : row.expect === "ERR_SERVICE_SECRET_NOT_FOUND" ? "error" : "denied",
      );
      if (row.expect !== "OK") assert.equal(entry.detail?.code, row.expect);
      assert.ok(!JSON.stringify([...a.entries, ...b.entries]).includes("s3cr3t"), "no secret value audited");
    });

  it("counts every decision of both paths in one metric", async () => {
    const text = await f.running.metrics.render();
    // Summed over the callers' TEEs (a caller without evidence is tee="none").
    const sum = (outcome: string) =>
      [
        ...text.matchAll(
          new RegExp(
            `^keyward_gate_decisions_total\\{action="secrets.get",outcome="${outcome}",tee="[a-z]+"\\} (\\d+)$`,
            "gm",
          ),
        ),
      ].reduce((n, m) => n + Number(m[1]), 0);
    const allowed = sum("allowed");
    const denied = sum("denied");
    const okRows = TABLE.filter((r) => r.expect === "OK").length;
    const deniedRows = TABLE.filter(
      (r) => r.expect !== "OK" && r.expect !== "ERR_SERVICE_SECRET_NOT_FOUND",
    ).length;
    assert.equal(Number(allowed), 2 * okRows);
    assert.equal(Number(denied), 2 * deniedRows);
  });

  it("puts every KMS operation through the same gate: granted, refused, limited, audited, counted", async () => {
    await createOrRotateKey(f.store, f.masterKey, "signing", "P-256", "admin:test");
    const kms = await kmsClientAs(f.platform, f.service.port, 0xe3);
    const before = (await f.store.readAudit()).length;
    // 0xe3's policy ("all") grants no key: refused at the grant step.
    await assert.rejects(
      kms.sign({ keyId: "signing", message: new Uint8Array(4) }),
      (e) => codeOf(e) === "ERR_SERVICE_DENIED",
    );
    // An oversized key id is refused by the gate's limits before appraisal.
    await assert.rejects(
      kms.getPublicKey({ keyId: "k".repeat(300) }),
      (e) => codeOf(e) === "ERR_SERVICE_REQUEST_INVALID",
    );
    const entries = (await f.store.readAudit()).slice(before);
    assert.deepEqual(
      entries.map((e) => [e.action, e.outcome, e.detail?.code, e.detail?.via]),
      [
        ["kms.sign", "denied", "ERR_SERVICE_DENIED", "ra-tls"],
        ["kms.getPublicKey", "denied", "ERR_SERVICE_REQUEST_INVALID", "ra-tls"],
      ],
    );
    assert.match(
      await f.running.metrics.render(),
      /keyward_gate_decisions_total\{action="kms.sign",outcome="denied",tee="sgx"\} 1/,
    );
  });
});
