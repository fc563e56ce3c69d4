/**
 * The challenge path behind a load balancer: two replicas of the service on one database, SQLite
 * (one file) and PostgreSQL (127.0.0.1:5432, db `test`, a unique schema; required, never
 * skipped). A nonce from replica A is answered at B, and the token B issued is redeemed at A:
 * released once. Replaying the nonce or the token at either replica is refused, and of 16
 * concurrent redemptions of one token (or answers to one nonce), spread over both replicas,
 * exactly one succeeds. The database holds neither the nonce nor the token.
 */
import assert from "node:assert/strict";
import { createECDH, createHash, createPrivateKey, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { initSimPlatform, type SimPlatform } from "@keyward/platform/sim";
import { ChallengeService } from "@keyward/proto/keyward/v1";
import { compactDecrypt } from "jose";
import pg from "pg";
import { challengeReportData } from "../../src/features/secrets/challenge.ts";
import { loadOrCreateKeyFile, sealSecret } from "../../src/kernel/envelope.ts";
import {
  SIM_SERVICE_MEASUREMENT,
  simulatedServiceCredential,
  simulationQuoteTrust,
  simulationTrust,
} from "../../src/kernel/trust.ts";
import { composeService, FEATURE_MIGRATIONS, loadServiceConfig } from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import type { Store } from "../../src/store/contract.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { fixedPolicies, hex, mr, seedPolicy } from "./helpers.ts";
import { PG_URL, requirePostgres } from "./postgres.ts";

const silent = () => createLogger(new Writable({ write: (_c, _e, cb) => cb() }));

async function replica(dir: string, platform: SimPlatform, store: Store) {
  const running = await composeService({
    config: loadServiceConfig(
      dir,
      { listen: "127.0.0.1:0", challengeListen: "127.0.0.1:0", simulation: true },
      {},
    ),
    store,
    masterKey: loadOrCreateKeyFile(join(dir, "master.key")),
    trust: {
      verifyPeer: simulationTrust(platform),
      verifyQuote: simulationQuoteTrust(platform),
      credential: await simulatedServiceCredential(platform),
      describe: {},
    },
    policies: fixedPolicies([seedPolicy("hello", 0xc1)]),
    logger: silent(),
  });
  const root = parsePemCertificates(platform.rootCertificatePem)[0];
  if (root === undefined) throw new Error("no root");
  const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  const collateral = parseCollateralJson(platform.collateralJson("sgx"));
  const policy = policyFromObject(
    { id: "svc", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
    "t",
  );
  const { transport } = await createRaTlsGrpcTransport({
    host: "127.0.0.1",
    port: running.challengePort ?? assert.fail("no challenge listener"),
    peerVerifier: createPeerVerifier({
      verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy }),
    }),
  });
  return { running, store, client: createClient(ChallengeService, transport) };
}

const refused = (e: unknown) => e instanceof ConnectError && e.code === Code.Unauthenticated;
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (refused(e) ? "refused" : `unexpected: ${String(e)}`),
  );

const engines = [
  {
    name: "SQLite (one file)",
    open: (dir: string) => openSqliteStore(dir, { migrations: FEATURE_MIGRATIONS }),
    require: async () => undefined,
    cleanup: async () => undefined,
    file: (dir: string) => join(dir, "keyward.db"),
  },
  (() => {
    const schema = `kw_chal_${process.pid}_${randomBytes(4).toString("hex")}`;
    return {
      name: "PostgreSQL",
      open: () => openPostgresStore({ connectionString: PG_URL, schema, migrations: FEATURE_MIGRATIONS }),
      require: () => requirePostgres(),
      cleanup: async () => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      },
      file: undefined,
    };
  })(),
];

for (const engine of engines)
  describe(`challenge path on two replicas: ${engine.name}`, () => {
    let dir: string;
    let platform: SimPlatform;
    let a: Awaited<ReturnType<typeof replica>>;
    let b: Awaited<ReturnType<typeof replica>>;
    before(async () => {
      await engine.require();
      dir = mkdtempSync(join(tmpdir(), "keyward-chal-"));
      platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
      const first = await engine.open(dir);
      const masterKey = loadOrCreateKeyFile(join(dir, "master.key"));
      await first.putSecret(
        "occlum/1/image_key",
        (v) => sealSecret(masterKey, "occlum/1/image_key", v, new TextEncoder().encode("s3cr3t-image-key")),
        { action: "secret.put", outcome: "ok", subject: "admin:test" },
      );
      a = await replica(dir, platform, first);
      b = await replica(dir, platform, await engine.open(dir));
    });
    after(async () => {
      for (const r of [a, b]) {
        await r?.running.shutdown();
        await r?.store.close();
      }
      await engine.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const newKey = () => {
      const e = createECDH("prime256v1");
      const pub = new Uint8Array(e.generateKeys());
      const b64u = (x: Uint8Array) => Buffer.from(x).toString("base64url");
      const jwk = { kty: "EC", crv: "P-256", x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33)) };
      return {
        pub,
        privateKey: createPrivateKey({ key: { ...jwk, d: b64u(e.getPrivateKey()) }, format: "jwk" }),
      };
    };
    const quoteFor = (nonce: Uint8Array, epk: Uint8Array) => {
      const reportData = new Uint8Array(64);
      reportData.set(challengeReportData(nonce, epk));
      return platform.quoteSgx({
        mrEnclave: mr(0xc1),
        mrSigner: mr(0x55),
        isvProdId: 1,
        isvSvn: 1,
        reportData,
      });
    };
    const released = async () =>
      (await a.store.readAudit()).filter((e) => e.action === "secrets.get" && e.outcome === "allowed").length;

    it("nonce from A, evidence to B, token used at A: released once; replay at either refused", async () => {
      const k = newKey();
      const before = await released();
      const { nonce } = await a.client.challenge({});
      const quote = quoteFor(nonce, k.pub);
      const { token } = await b.client.attest({ nonce, quote, ephemeralPublicKey: k.pub });
      const r = await a.client.getSecretsWithToken({ token });
      const jwe = r.secrets[0]?.jwe ?? assert.fail("no secret");
      const { plaintext } = await compactDecrypt(jwe, k.privateKey);
      assert.equal(new TextDecoder().decode(plaintext), "s3cr3t-image-key");
      for (const replay of [a, b]) {
        assert.equal(await outcome(replay.client.getSecretsWithToken({ token })), "refused");
        assert.equal(
          await outcome(replay.client.attest({ nonce, quote, ephemeralPublicKey: k.pub })),
          "refused",
        );
      }
      assert.equal((await released()) - before, 1);
    });

    it("of 16 concurrent answers to one nonce and 16 redemptions of one token over both replicas, one succeeds", async () => {
      const k = newKey();
      const before = await released();
      const { nonce } = await b.client.challenge({});
      const quote = quoteFor(nonce, k.pub);
      const tokens: Uint8Array[] = [];
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          outcome(
            (i % 2 === 0 ? a : b).client
              .attest({ nonce, quote, ephemeralPublicKey: k.pub })
              .then((r) => tokens.push(r.token)),
          ),
        ),
      );
      assert.deepEqual(answers.filter((o) => o === "ok").length, 1, answers.join(", "));
      assert.deepEqual(answers.filter((o) => o === "refused").length, 15, answers.join(", "));
      const token = tokens[0] ?? assert.fail("no token");
      const redemptions = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          outcome((i % 2 === 0 ? b : a).client.getSecretsWithToken({ token })),
        ),
      );
      assert.equal(redemptions.filter((o) => o === "ok").length, 1, redemptions.join(", "));
      assert.equal(redemptions.filter((o) => o === "refused").length, 15, redemptions.join(", "));
      assert.equal((await released()) - before, 1);
    });

    it("a token row written by someone without the master key releases nothing", async () => {
      const k = newKey();
      const { nonce } = await a.client.challenge({});
      const { token } = await a.client.attest({
        nonce,
        quote: quoteFor(nonce, k.pub),
        ephemeralPublicKey: k.pub,
      });
      const id = createHash("sha256").update(token).digest("hex");
      // The real row, one byte of its sealed record flipped: it no longer opens.
      const row = await a.store.sql.get("SELECT sealed FROM challenge_tokens WHERE id = ?", [id]);
      const sealed = new Uint8Array(row?.sealed as Uint8Array);
      sealed[20] = (sealed[20] ?? 0) ^ 1;
      await a.store.sql.run("UPDATE challenge_tokens SET sealed = ? WHERE id = ?", [sealed, id]);
      assert.equal(await outcome(b.client.getSecretsWithToken({ token })), "refused");
      // A row forged for a token of the writer's choosing, with any bytes: refused as well.
      const forged = randomBytes(32);
      await a.store.sql.run("INSERT INTO challenge_tokens (id, sealed, expires_ms) VALUES (?, ?, ?)", [
        createHash("sha256").update(forged).digest("hex"),
        new Uint8Array(randomBytes(200)),
        Date.now() + 60_000,
      ]);
      assert.equal(await outcome(a.client.getSecretsWithToken({ token: forged })), "refused");
    });

    if (engine.file !== undefined) {
      const file = engine.file;
      it("keeps neither nonces nor tokens in the database (file and write-ahead log)", async () => {
        const k = newKey();
        const { nonce } = await a.client.challenge({});
        const n2 = (await b.client.challenge({})).nonce;
        const { token } = await a.client.attest({
          nonce: n2,
          quote: quoteFor(n2, k.pub),
          ephemeralPublicKey: k.pub,
        });
        const raw = Buffer.concat(
          [file(dir), `${file(dir)}-wal`].flatMap((f) => {
            try {
              return [readFileSync(f)];
            } catch {
              return [];
            }
          }),
        );
        assert.ok(raw.length > 0);
        for (const [what, v] of [
          ["outstanding nonce", nonce],
          ["issued token", token],
        ] as const) {
          assert.equal(raw.indexOf(Buffer.from(v)), -1, what);
          assert.equal(raw.indexOf(Buffer.from(hex(v))), -1, `${what} (hex)`);
          assert.equal(raw.indexOf(Buffer.from(Buffer.from(v).toString("base64"))), -1, `${what} (base64)`);
        }
        // The row is there, under the value's hash: redeeming still works.
        assert.equal(await outcome(b.client.getSecretsWithToken({ token })), "ok");
      });
    }
  });
