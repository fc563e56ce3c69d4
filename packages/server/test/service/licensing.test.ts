/**
 * The licensing server end to end, with real parts: swtpm (manufactured with an EK certificate by
 * swtpm_setup and a private CA) as the server's TPM, the licensed app run by the simulated enclave
 * launcher, the licensing listener over TLS, and the client API verifying before it connects.
 *
 * Flow: sign-up → login → launch (local launcher) → binding → verified, pinned connect → an
 * application request answered by the enclave. Attacks: a certificate swapped between binding and
 * connect, a replayed binding for another nonce, a quote by an unrestricted key, an AK without
 * credential activation, an enclave presenting another certificate, a revoked licence, a reused
 * refresh token, brute-force logins, SQL-shaped and oversized inputs.
 */
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createServer, type TLSSocket } from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { concatBytes } from "@keyward/attest/bytes";
import { parseTpm2bPublic } from "@keyward/attest/tpm";
import { parsePemCertificates, toPem } from "@keyward/attest/x509";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { simulatedPlatformAttester } from "@keyward/platform/sim";
import {
  akEccTemplate,
  provisionSwtpm,
  type Swtpm,
  startSwtpm,
  TPM_RH,
  TpmClient,
  unrestrictedSigningTemplate,
} from "@keyward/platform/tpm";
import { buildCertificate } from "@keyward/platform/x509";
import { Licensing } from "@keyward/proto/keyward/v1";
import { fromConnectError } from "../../src/errors/connect.ts";
import { issueLicence, revokeLicence } from "../../src/features/licensing/licences.ts";
import {
  connectPinned,
  LicensingClient,
  sha256,
  trustAk,
  verifyBinding,
} from "../../src/licensing-client.ts";
import { startFixture } from "./helpers.ts";

const work = mkdtempSync(join(tmpdir(), "keyward-licensing-"));
let tpm: Swtpm;
let other: Swtpm;
let rootCaPem: string;
let issuerCaPem: string;
let f: Awaited<ReturnType<typeof startFixture>>;
let port: number;
let caPem: string;
const PASSWORD = "correct horse battery staple";

const client = () => new LicensingClient({ host: "127.0.0.1", port, caPem });
const ekTrust = () => ({ kind: "ek" as const, roots: parsePemCertificates(rootCaPem) });
async function codeOf(p: Promise<unknown>): Promise<{ code: string; detail?: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const k = e as { code: string; detail?: Record<string, unknown> };
    return k;
  }
  assert.fail("expected a refusal");
}

/** GET `path` over an already verified socket: the application's answer. */
function getOver(socket: TLSSocket, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // HTTP over the verified TLS socket: no new connection, no name lookup.
    const req = httpRequest(
      { createConnection: () => socket, path, method: "GET", headers: { host: "enclave" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function signedUp(user: string): Promise<{ c: LicensingClient; licenceId: string }> {
  const c = client();
  await c.signUp(user, PASSWORD);
  await c.login(user, PASSWORD);
  const [licence] = await c.licences();
  assert.ok(licence !== undefined, "the trial licence");
  return { c, licenceId: licence.id };
}

before(async () => {
  const made = provisionSwtpm(join(work, "state"), join(work, "ca"));
  rootCaPem = made.rootCaPem;
  issuerCaPem = made.issuerCaPem;
  tpm = await startSwtpm({ stateDir: made.stateDir });
  other = await startSwtpm();
  const chain = join(work, "ek-issuer.pem");
  (await import("node:fs")).writeFileSync(chain, issuerCaPem);
  f = await startFixture([], {
    serviceFlags: {
      licensingListen: "127.0.0.1:0",
      licensingTpm: tpm.uri,
      licensingEkChain: chain,
      licensingTrial: "licensed-app:3600:2:pro+export",
      licensingMaxFailures: "3",
    },
  });
  port = f.running.ports.licensingPort ?? 0;
  caPem = (await import("node:fs")).readFileSync(join(f.dir, "licensing", "tls.crt"), "utf8");
});

after(async () => {
  await f?.service.close();
  await tpm?.stop();
  await other?.stop();
  rmSync(work, { recursive: true, force: true });
  if (f !== undefined) rmSync(f.dir, { recursive: true, force: true });
});

describe("licensing server, end to end with swtpm and the local launcher", { timeout: 180_000 }, () => {
  it("signs up, logs in, launches, verifies the binding through EK activation, connects pinned and gets an answer", async () => {
    const { c, licenceId } = await signedUp("alice");
    const [licence] = await c.licences();
    assert.equal(licence?.product, "licensed-app");
    assert.deepEqual(licence?.entitlements, ["pro", "export"]);
    assert.equal(licence?.maxEnclaves, 2);
    assert.equal(licence?.status, "active");
    const enclave = await c.launch(licenceId);
    assert.equal(enclave.state, "ready");
    assert.equal(enclave.host, "127.0.0.1");
    const connection = await c.connect(enclave.id, ekTrust());
    assert.equal(Buffer.from(connection.certificateSha256).toString("hex"), enclave.certificateSha256);
    const answer = await getOver(connection.socket, "/hello");
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), {
      app: "licensed-app",
      user: "alice",
      product: "licensed-app",
      message: "hello alice",
    });
    // The AK can also be pinned (its Name, from a first activation or out of band).
    const b = await c.binding(enclave.id, new Uint8Array(randomBytes(32)));
    const pinned = await c.connect(enclave.id, {
      kind: "pinned",
      names: [parseTpm2bPublic(b.akPublic).name],
    });
    assert.equal((await getOver(pinned.socket, "/hello")).status, 200);
    await c.stop(enclave.id);
  });

  it("refuses a binding replayed for another nonce (extraData) and one whose certificate was swapped", async () => {
    const { c, licenceId } = await signedUp("bob");
    const enclave = await c.launch(licenceId);
    const nonce = new Uint8Array(randomBytes(32));
    const b = await c.binding(enclave.id, nonce);
    const ak = await trustAk(
      b.akPublic,
      b.ekCertificates,
      {
        kind: "ek",
        roots: parsePemCertificates(rootCaPem),
        activate: (blob, secret) => c.activateAk(blob, secret),
      },
      new Date(),
    );
    assert.ok(verifyBinding(b, ak, nonce).verdict);
    // Replayed for another client's nonce.
    assert.throws(() => verifyBinding(b, ak, new Uint8Array(randomBytes(32))), {
      code: "ERR_TPM_EXTRA_DATA_MISMATCH",
    });
    // The server (or the network) swaps the certificate after quoting: extraData and PCR 23 no longer hold.
    const swapped = { ...b, certificate: selfSigned().der };
    assert.throws(() => verifyBinding(swapped, ak, nonce), { code: "ERR_TPM_EXTRA_DATA_MISMATCH" });
    // PCR 23 alone swapped (a quote of another enclave's certificate): the PCR policy fails.
    const pcrOnly = { ...b, pcrValues: new Uint8Array(32).fill(1) };
    assert.throws(
      () => verifyBinding(pcrOnly, ak, nonce),
      (e: { code: string }) =>
        ["ERR_TPM_PCR_DIGEST_MISMATCH", "ERR_TPM_PCR_POLICY_MISMATCH"].includes(e.code),
    );
    await c.stop(enclave.id);
  });

  it("refuses to connect to an endpoint presenting another certificate, before sending a byte", async () => {
    const { c, licenceId } = await signedUp("carol");
    const enclave = await c.launch(licenceId);
    const nonce = new Uint8Array(randomBytes(32));
    const b = await c.binding(enclave.id, nonce);
    // An impostor at some address (a swapped DNS answer, a host that moved the port): another key, another certificate.
    const impostor = selfSigned();
    let received = 0;
    const server = createServer({ key: impostor.keyPem, cert: impostor.certPem }, (s) => {
      s.on("data", (d: Buffer) => {
        received += d.byteLength;
      });
      s.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address() as { port: number };
    const refused = await codeOf(connectPinned("127.0.0.1", address.port, b.certificate));
    assert.equal(refused.code, "ERR_LICENSING_BINDING_MISMATCH");
    // Even with the right name: "localhost" resolves to the impostor, the pin still decides.
    assert.equal(
      (await codeOf(connectPinned("localhost", address.port, b.certificate))).code,
      "ERR_LICENSING_BINDING_MISMATCH",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(received, 0, "no application byte reached the impostor");
    server.close();
    // The real enclave, reached by a DNS name, passes: the pin, not the name, decides.
    const ok = await connectPinned("localhost", enclave.port, b.certificate);
    assert.equal((await getOver(ok, "/hello")).status, 200);
    await c.stop(enclave.id);
  });

  it("refuses a quote signed by an unrestricted key, and an AK not activated through the certified EK", async () => {
    const { c, licenceId } = await signedUp("dave");
    const enclave = await c.launch(licenceId);
    const nonce = new Uint8Array(randomBytes(32));
    const b = await c.binding(enclave.id, nonce);
    const forger = TpmClient.open(other.uri);
    try {
      await forger.startup();
      // A key that signs anything: the forger signs the genuine TPMS_ATTEST bytes with it.
      const unrestricted = await forger.createPrimary(TPM_RH.OWNER, unrestrictedSigningTemplate());
      const digest = createHash("sha256").update(b.quote).digest();
      const forgedSig = await forger.sign(unrestricted.handle, new Uint8Array(digest));
      const forged = { ...b, akPublic: unrestricted.public, signature: forgedSig };
      // Pinning it does not help: its attributes are not an AK's.
      const pinnedRefusal = await codeOf(
        trustAk(forged.akPublic, [], { kind: "pinned", names: [unrestricted.name] }, new Date()),
      );
      assert.equal(pinnedRefusal.code, "ERR_TPM_AK_ATTRIBUTES");
      await forger.flushContext(unrestricted.handle);
      // A real AK of another TPM, offered with the server's EK certificate: activation through the
      // server's TPM cannot recover the secret (that TPM holds no object with this Name).
      const foreign = await forger.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate());
      const activated = await codeOf(
        trustAk(
          foreign.public,
          b.ekCertificates,
          {
            kind: "ek",
            roots: parsePemCertificates(rootCaPem),
            activate: (blob, secret) => c.activateAk(blob, secret),
          },
          new Date(),
        ),
      );
      assert.equal(activated.code, "ERR_LICENSING_AK_UNTRUSTED");
      // A server that answers the challenge with anything but the TPM's answer.
      const lying = await codeOf(
        trustAk(
          b.akPublic,
          b.ekCertificates,
          {
            kind: "ek",
            roots: parsePemCertificates(rootCaPem),
            activate: async () => new Uint8Array(32),
          },
          new Date(),
        ),
      );
      assert.equal(lying.code, "ERR_LICENSING_AK_UNTRUSTED");
      // An EK certificate of a manufacturer the client does not trust.
      const stranger = await codeOf(
        trustAk(
          b.akPublic,
          b.ekCertificates,
          {
            kind: "ek",
            roots: [],
            activate: (blob, secret) => c.activateAk(blob, secret),
          },
          new Date(),
        ),
      );
      assert.equal(stranger.code, "ERR_LICENSING_AK_UNTRUSTED");
      await forger.flushContext(foreign.handle);
    } finally {
      forger.close();
    }
    await c.stop(enclave.id);
  });

  it("enforces the concurrent-enclave limit, and stops enclaves when their licence is revoked", async () => {
    const { c, licenceId } = await signedUp("erin");
    const one = await c.launch(licenceId);
    const two = await c.launch(licenceId);
    assert.notEqual(one.id, two.id);
    assert.equal((await codeOf(c.launch(licenceId))).code, "ERR_LICENSING_LIMIT");
    await revokeLicence(f.store.sql, licenceId, Date.now());
    // The sweeper (every 2 s) stops them; the binding is refused from then on.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await codeOf(c.binding(one.id, new Uint8Array(randomBytes(32)))).catch(() => ({ code: "" }));
      if (r.code === "ERR_LICENSING_ENCLAVE_NOT_FOUND") break;
      assert.ok(Date.now() < deadline, "enclaves stopped after revocation");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal((await codeOf(connectPinned("127.0.0.1", one.port, new Uint8Array(10)))).code, "ERR_IO");
    assert.equal((await codeOf(c.launch(licenceId))).code, "ERR_LICENSING_NO_LICENCE");
  });

  it("stops enclaves when their licence expires", async () => {
    const { c } = await signedUp("olga");
    const short = await issueLicence(
      f.store.sql,
      "olga",
      { product: "licensed-app", entitlements: [], validSeconds: 4, maxEnclaves: 1 },
      Date.now(),
    );
    const e = await c.launch(short.id);
    assert.equal((await c.licences()).find((l) => l.id === short.id)?.status, "active");
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await codeOf(c.binding(e.id, new Uint8Array(randomBytes(32)))).catch(() => ({ code: "" }));
      if (r.code === "ERR_LICENSING_ENCLAVE_NOT_FOUND") break;
      assert.ok(Date.now() < deadline, "the enclave stopped after expiry");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal((await c.licences()).find((l) => l.id === short.id)?.status, "expired");
    assert.equal((await codeOf(c.launch(short.id))).code, "ERR_LICENSING_NO_LICENCE");
    const row = await f.store.sql.get("SELECT stop_reason FROM licensing_enclaves WHERE id = ?", [e.id]);
    assert.equal(row?.stop_reason, "expired");
  });

  it("rotates refresh tokens and revokes the whole family when a spent one is reused; logout stops enclaves", async () => {
    const { c, licenceId } = await signedUp("frank");
    const first = c.session?.refreshToken ?? "";
    await c.refresh();
    const second = c.session?.refreshToken ?? "";
    assert.notEqual(first, second);
    const attacker = new LicensingClient(
      { host: "127.0.0.1", port, caPem },
      { accessToken: "x", refreshToken: first },
    );
    const reuse = await codeOf(attacker.refresh());
    assert.equal(reuse.code, "ERR_LICENSING_REFRESH_INVALID");
    // The family is gone: the legitimate holder's newer token and its access token too.
    assert.equal((await codeOf(c.licences())).code, "ERR_LICENSING_TOKEN_INVALID");
    assert.equal((await codeOf(c.refresh())).code, "ERR_LICENSING_REFRESH_INVALID");
    // A new login, an enclave, then logout: the enclave stops.
    await c.login("frank", PASSWORD);
    const e = await c.launch(licenceId);
    assert.equal(await c.logout(), 1);
    assert.equal((await codeOf(connectPinned("127.0.0.1", e.port, new Uint8Array(10)))).code, "ERR_IO");
  });

  it("locks out brute-force logins per user name, the same way for unknown names, with one answer", async () => {
    const c = client();
    await c.signUp("grace", PASSWORD);
    for (const user of ["grace", "nobody-here"]) {
      for (let i = 0; i < 3; i++) {
        const r = await codeOf(c.login(user, `wrong password ${i}`));
        assert.equal(r.code, "ERR_LICENSING_LOGIN_FAILED", `${user} attempt ${i}`);
      }
      const locked = await codeOf(c.login(user, PASSWORD));
      assert.equal(locked.code, "ERR_LICENSING_LOCKED");
      assert.ok(Number(locked.detail?.retryAfter) > 0);
    }
  });

  it("refuses SQL-shaped and oversized inputs with ERR_LICENSING_INPUT_INVALID, leaving the tables intact", async () => {
    const c = client();
    for (const user of [
      "' OR '1'='1",
      "alice'; DROP TABLE licensing_users; --",
      "",
      "x".repeat(129),
      "a\u0000b",
    ]) {
      assert.equal((await codeOf(c.signUp(user, PASSWORD))).code, "ERR_LICENSING_INPUT_INVALID");
      assert.equal((await codeOf(c.login(user, PASSWORD))).code, "ERR_LICENSING_INPUT_INVALID");
    }
    assert.equal((await codeOf(c.signUp("henry", "short"))).code, "ERR_LICENSING_INPUT_INVALID");
    assert.equal((await codeOf(c.signUp("henry", "p".repeat(1025)))).code, "ERR_LICENSING_INPUT_INVALID");
    const { c: ivy, licenceId } = await signedUp("ivy");
    assert.equal((await codeOf(ivy.launch("' OR 1=1 --"))).code, "ERR_LICENSING_INPUT_INVALID");
    assert.equal(
      (await codeOf(ivy.binding(licenceId, new Uint8Array(8)))).code,
      "ERR_LICENSING_INPUT_INVALID",
    );
    assert.equal(
      (await codeOf(ivy.binding(licenceId, new Uint8Array(65)))).code,
      "ERR_LICENSING_INPUT_INVALID",
    );
    // An oversized message is refused by the listener before any handler runs.
    const raw = createClient(
      Licensing,
      createGrpcTransport({ baseUrl: `https://127.0.0.1:${port}`, nodeOptions: { ca: caPem } }),
    );
    const big = await codeOf(
      raw.signUp({ user: "jack", password: "p".repeat(100_000) }).catch((e) => {
        throw fromConnectError(e);
      }),
    );
    assert.equal(big.code, "ERR_IO");
    assert.match((big as unknown as Error).message, /larger than configured readMaxBytes 65536/);
    const users = await f.store.sql.get("SELECT COUNT(*) AS n FROM licensing_users");
    assert.ok(Number(users?.n) >= 1, "the users table is still there");
    // RegisterEnclave without RA-TLS evidence is refused, whatever it carries.
    const reg = await codeOf(
      raw
        .registerEnclave({ launchId: "0".repeat(32), certificate: new Uint8Array(10), port: 1 })
        .catch((e) => {
          throw fromConnectError(e);
        }),
    );
    assert.equal(reg.code, "ERR_LICENSING_REGISTRATION_REFUSED");
  });

  it("accepts a certificate only from the licensed enclave, once per launch", async () => {
    const { c, licenceId } = await signedUp("rita");
    const e = await c.launch(licenceId);
    const row = await f.store.sql.get("SELECT launch_id FROM licensing_enclaves WHERE id = ?", [e.id]);
    const launchId = String(row?.launch_id);
    const m = measure(loadManifest(join(process.cwd(), "examples/licensed-app/app.toml")));
    const as = async (identity: { mrEnclave: Uint8Array; debug?: boolean }) => {
      const credential = await issueRaTlsCertificate({
        attester: simulatedPlatformAttester(f.platform, {
          mrEnclave: identity.mrEnclave,
          mrSigner: m.mrSigner,
          isvProdId: m.isvProdId,
          isvSvn: m.isvSvn,
          ...(identity.debug === true ? { debug: true } : {}),
        }),
      });
      return createClient(
        Licensing,
        createGrpcTransport({
          baseUrl: `https://127.0.0.1:${port}`,
          nodeOptions: { ca: caPem, key: credential.keyPem, cert: credential.certificatePem },
        }),
      );
    };
    const register = async (client: Awaited<ReturnType<typeof as>>, id: string) =>
      codeOf(
        client.registerEnclave({ launchId: id, certificate: selfSigned().der, port: 1234 }).catch((x) => {
          throw fromConnectError(x);
        }),
      );
    // A genuine copy of the licensed app, for a launch already registered: refused, the first certificate stays.
    assert.equal(
      (await register(await as({ mrEnclave: m.mrEnclave }), launchId)).code,
      "ERR_LICENSING_REGISTRATION_REFUSED",
    );
    // Another enclave, and the licensed app in debug mode: refused.
    assert.equal(
      (await register(await as({ mrEnclave: new Uint8Array(32).fill(0x11) }), launchId)).code,
      "ERR_LICENSING_REGISTRATION_REFUSED",
    );
    assert.equal(
      (await register(await as({ mrEnclave: m.mrEnclave, debug: true }), launchId)).code,
      "ERR_LICENSING_REGISTRATION_REFUSED",
    );
    // An unknown launch id: refused.
    assert.equal(
      (await register(await as({ mrEnclave: m.mrEnclave }), "a".repeat(32))).code,
      "ERR_LICENSING_REGISTRATION_REFUSED",
    );
    const b = await c.binding(e.id, new Uint8Array(randomBytes(32)));
    assert.equal(Buffer.from(sha256(b.certificate)).toString("hex"), e.certificateSha256);
    await c.stop(e.id);
  });

  it("publishes the JWKS; tokens verify with it only under EdDSA", async () => {
    const { c } = await signedUp("kate");
    const jose = await import("jose");
    const res = await fetchJwks();
    const set = jose.createLocalJWKSet(res);
    const token = c.session?.accessToken ?? "";
    const { payload, protectedHeader } = await jose.jwtVerify(token, set, {
      algorithms: ["EdDSA"],
      issuer: "keyward-licensing",
      audience: "keyward-licensing",
    });
    assert.equal(payload.sub, "kate");
    assert.equal(protectedHeader.alg, "EdDSA");
    assert.ok(res.keys.some((k) => k.kid === protectedHeader.kid));
    // An unsigned token with the same claims is refused by the server.
    const [, body] = token.split(".");
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", kid: protectedHeader.kid })).toString("base64url")}.${body}.`;
    const forged = new LicensingClient(
      { host: "127.0.0.1", port, caPem },
      { accessToken: unsigned, refreshToken: "" },
    );
    assert.equal((await codeOf(forged.licences())).code, "ERR_LICENSING_TOKEN_INVALID");
  });
});

function fetchJwks(): Promise<{ keys: { kid?: string }[] }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/.well-known/jwks.json", ca: caPem, method: "GET" },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve(JSON.parse(body)));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function selfSigned(): { der: Uint8Array; certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = buildCertificate({
    serial: concatBytes(Uint8Array.of(1), randomBytes(8)),
    subject: [["CN", "localhost"]],
    issuer: [["CN", "localhost"]],
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    publicKey,
    signingKey: privateKey,
  });
  return {
    der,
    certPem: toPem(der, "CERTIFICATE"),
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}
