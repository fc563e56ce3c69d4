import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { ChallengeService } from "@keyward/proto/keyward/v1";
import { verifyChain } from "../../src/audit/chain.ts";
import { challengeReportData, ecdhEsOpen } from "../../src/features/secrets/challenge.ts";
import { SIM_SERVICE_MEASUREMENT } from "../../src/kernel/trust.ts";
import { hex, mr, seedPolicy, startFixture } from "./helpers.ts";

const code = (c: Code) => (e: unknown) => e instanceof ConnectError && e.code === c;

describe("challenge–response", () => {
  let f: Awaited<ReturnType<typeof startFixture>>;
  let client: ReturnType<typeof createClient<typeof ChallengeService>>;
  let clock = Date.now();
  before(async () => {
    // The service's clock, moved by the expiry test.
    f = await startFixture([seedPolicy("hello", 0xc1)], { now: () => new Date(clock) });
    const root = parsePemCertificates(f.platform.rootCertificatePem)[0];
    if (root === undefined) throw new Error("no root");
    const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
    const collateral = parseCollateralJson(f.platform.collateralJson("sgx"));
    const policy = policyFromObject(
      { id: "svc", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
      "t",
    );
    const { transport } = await createRaTlsGrpcTransport({
      host: "127.0.0.1",
      port: f.running.challengePort ?? assert.fail("no challenge listener"),
      peerVerifier: createPeerVerifier({
        verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy }),
      }),
    });
    client = createClient(ChallengeService, transport);
  });
  after(async () => {
    await f.service.close();
    await f.store.close();
  });

  const quoteFor = (m: number, nonce: Uint8Array, epk: Uint8Array) => {
    const reportData = new Uint8Array(64);
    reportData.set(challengeReportData(nonce, epk));
    return f.platform.quoteSgx({ mrEnclave: mr(m), mrSigner: mr(0x55), isvProdId: 1, isvSvn: 1, reportData });
  };
  const newKey = () => {
    const e = createECDH("prime256v1");
    return { pub: new Uint8Array(e.generateKeys()), priv: new Uint8Array(e.getPrivateKey()) };
  };

  it("releases secrets encrypted to the ephemeral key; nonce and token are single-use", async () => {
    const k = newKey();
    const { nonce } = await client.challenge({});
    const a = await client.attest({ nonce, quote: quoteFor(0xc1, nonce, k.pub), ephemeralPublicKey: k.pub });
    assert.equal(a.policyId, "hello");
    await assert.rejects(
      client.attest({ nonce, quote: quoteFor(0xc1, nonce, k.pub), ephemeralPublicKey: k.pub }),
      code(Code.Unauthenticated),
    );
    const r = await client.getSecretsWithToken({ token: a.token });
    const s = r.secrets[0];
    assert.ok(s !== undefined);
    assert.equal(s.name, "master_key");
    assert.equal(new TextDecoder().decode(ecdhEsOpen(k.priv, s)), "s3cr3t-image-key");
    assert.throws(() => ecdhEsOpen(newKey().priv, s), { code: "ERR_SERVICE_SECRET_INTEGRITY" });
    await assert.rejects(client.getSecretsWithToken({ token: a.token }), code(Code.Unauthenticated));
  });

  it("refuses evidence bound to another ephemeral key", async () => {
    const k = newKey();
    const other = newKey();
    const { nonce } = await client.challenge({});
    await assert.rejects(
      client.attest({ nonce, quote: quoteFor(0xc1, nonce, other.pub), ephemeralPublicKey: k.pub }),
      code(Code.Unauthenticated),
    );
  });

  it("refuses an expired nonce and an expired token", async () => {
    const k = newKey();
    let { nonce } = await client.challenge({});
    clock += 31_000;
    await assert.rejects(
      client.attest({ nonce, quote: quoteFor(0xc1, nonce, k.pub), ephemeralPublicKey: k.pub }),
      code(Code.Unauthenticated),
    );
    ({ nonce } = await client.challenge({}));
    const a = await client.attest({ nonce, quote: quoteFor(0xc1, nonce, k.pub), ephemeralPublicKey: k.pub });
    clock += 61_000;
    await assert.rejects(client.getSecretsWithToken({ token: a.token }), code(Code.Unauthenticated));
  });

  it("refuses a workload no policy accepts, malformed requests, and keeps the chain", async () => {
    const k = newKey();
    const { nonce } = await client.challenge({});
    await assert.rejects(
      client.attest({ nonce, quote: quoteFor(0xc2, nonce, k.pub), ephemeralPublicKey: k.pub }),
      code(Code.PermissionDenied),
    );
    await assert.rejects(
      client.attest({ nonce: new Uint8Array(3), quote: new Uint8Array(10), ephemeralPublicKey: k.pub }),
      code(Code.InvalidArgument),
    );
    const { nonce: n2 } = await client.challenge({});
    await assert.rejects(
      client.attest({ nonce: n2, quote: new Uint8Array(100), ephemeralPublicKey: k.pub }),
      code(Code.Unauthenticated),
    );
    assert.equal(verifyChain(await f.store.readAudit()).ok, true);
  });
});
