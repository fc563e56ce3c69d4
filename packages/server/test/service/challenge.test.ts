import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createECDH, createPrivateKey, type JsonWebKey } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { ChallengeService } from "@keyward/proto/keyward/v1";
import { compactDecrypt } from "jose";
import { verifyChain } from "../../src/audit/chain.ts";
import { challengeReportData } from "../../src/features/secrets/challenge.ts";
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
  // What a workload keeps: the raw P-256 key pair, its private JWK (RFC 7518 §6.2.2) built from it.
  const newKey = () => {
    const e = createECDH("prime256v1");
    const pub = new Uint8Array(e.generateKeys());
    const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
    const jwk: JsonWebKey = {
      kty: "EC",
      crv: "P-256",
      x: b64u(pub.subarray(1, 33)),
      y: b64u(pub.subarray(33)),
      d: b64u(e.getPrivateKey()),
    };
    return { pub, jwk };
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
    // A compact JWE that jose opens with the ephemeral private key alone.
    const { plaintext, protectedHeader } = await compactDecrypt(
      s.jwe,
      createPrivateKey({ key: k.jwk, format: "jwk" }),
      { keyManagementAlgorithms: ["ECDH-ES+A256KW"], contentEncryptionAlgorithms: ["A256GCM"] },
    );
    assert.equal(new TextDecoder().decode(plaintext), "s3cr3t-image-key");
    assert.equal(protectedHeader.alg, "ECDH-ES+A256KW");
    assert.equal(protectedHeader.enc, "A256GCM");
    assert.equal(protectedHeader.keyward_secret, s.name);
    assert.equal(protectedHeader.keyward_version, s.version);
    // Another key cannot open it.
    await assert.rejects(compactDecrypt(s.jwe, createPrivateKey({ key: newKey().jwk, format: "jwk" })));
    await assert.rejects(client.getSecretsWithToken({ token: a.token }), code(Code.Unauthenticated));
  });

  it("a second, independent JOSE implementation (Python jwcrypto) opens the released JWE", async () => {
    const k = newKey();
    const { nonce } = await client.challenge({});
    const a = await client.attest({ nonce, quote: quoteFor(0xc1, nonce, k.pub), ephemeralPublicKey: k.pub });
    const { secrets } = await client.getSecretsWithToken({ token: a.token });
    const s = secrets[0];
    assert.ok(s !== undefined);
    const opened = openWithJwcrypto(k.jwk, [s.jwe, tampered(s.jwe)]);
    assert.deepEqual(opened[0], {
      plaintext: "s3cr3t-image-key",
      alg: "ECDH-ES+A256KW",
      enc: "A256GCM",
      secret: s.name,
      version: s.version,
    });
    assert.deepEqual(opened[1], { error: true }); // one flipped ciphertext bit: the tag check fails
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

// The ciphertext segment of a compact JWE with its first bit flipped.
function tampered(jwe: string): string {
  const parts = jwe.split(".");
  const c = Buffer.from(parts[3] ?? "", "base64url");
  c[0] = (c[0] ?? 0) ^ 0x80;
  parts[3] = c.toString("base64url");
  return parts.join(".");
}

// Decrypts with Python's jwcrypto (Debian's python3-jwcrypto, scripts/system-deps.sh): written
// apart from jose, in another language. Key and JWEs go through stdin, never argv.
const JWCRYPTO = `
import json, sys
from jwcrypto import jwe, jwk
req = json.load(sys.stdin)
key = jwk.JWK(**req["jwk"])
out = []
for token in req["jwes"]:
    try:
        t = jwe.JWE()
        t.deserialize(token, key=key)
        h = json.loads(t.objects["protected"])
        out.append({"plaintext": t.payload.decode(), "alg": h["alg"], "enc": h["enc"],
                    "secret": h["keyward_secret"], "version": h["keyward_version"]})
    except Exception:
        out.append({"error": True})
print(json.dumps(out))
`;

function openWithJwcrypto(key: JsonWebKey, jwes: readonly string[]): unknown[] {
  const r = spawnSync("/usr/bin/python3", ["-c", JWCRYPTO], {
    input: JSON.stringify({ jwk: key, jwes }),
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as unknown[];
}
