/**
 * The KBS protocol listener, driven by a client written from the protocol description
 * (kbs-client.ts) with simulated TDX and SGX evidence in exactly guest components' layout: the whole
 * exchange over TLS with an ordinary CA-issued certificate, the refusals the issue names (tampered
 * nonce, wrong TEE key binding, expired token, resource not granted, replayed attest, a token from
 * another service), the protocol's published versions, and sessions shared through the store by
 * two replicas.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { verifiedFromRecord } from "@keyward/attest/evidence";
import { type FlattenedJWE, flattenedDecrypt } from "jose";
import { resourcePathOf } from "../../src/features/kbs/feature.ts";
import { issueToken, tokenKeyOf } from "../../src/features/kbs/token.ts";
import { simulatedServiceCredential, simulationQuoteTrust, simulationTrust } from "../../src/kernel/trust.ts";
import {
  composeService,
  FEATURE_MIGRATIONS,
  loadServiceConfig,
  POLICY_READER,
  type RunningKeyward,
} from "../../src/main.ts";
import { createLogger } from "../../src/ops/logs.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { fixedPolicies, hex, mr, startFixture } from "./helpers.ts";
import {
  type Answer,
  CookieJar,
  call,
  decryptKbsResponse,
  evidenceOf,
  handshake,
  type KbsEndpoint,
  reportDataFor,
  teeKeyPair,
} from "./kbs-client.ts";
import { makeTestTls } from "./tls-ca.ts";

const MRTD = new Uint8Array(48).fill(0x7d);
const tls = makeTestTls();
const policies = [
  POLICY_READER.policy(
    {
      id: "coco-tdx",
      tee: ["tdx"],
      mrTd: [hex(MRTD)],
      platforms: ["simulated"],
      secrets: { "default/key/image_key": "occlum/1/image_key", "default/key/absent": "store:nothing-here" },
    },
    "coco-tdx.json",
  ),
  POLICY_READER.policy(
    {
      id: "coco-sgx",
      mr_enclave: hex(mr(0xc5)),
      platforms: ["simulated"],
      secrets: { "default/key/image_key": "occlum/1/image_key" },
    },
    "coco-sgx.json",
  ),
];

let clock = Date.now();
let f: Awaited<ReturnType<typeof startFixture>>;
let kbs: KbsEndpoint;
const tdxQuote = (reportData: Uint8Array, mrTd = MRTD) => f.platform.quoteTdx({ mrTd, reportData });
const sgxQuote = (reportData: Uint8Array, m = 0xc5) =>
  f.platform.quoteSgx({ mrEnclave: mr(m), mrSigner: mr(0x55), isvProdId: 1, isvSvn: 1, reportData });
const problem = (a: Answer) => a.body as { type: string; detail: string };

before(async () => {
  f = await startFixture(policies, {
    now: () => new Date(clock),
    serviceFlags: { kbsListen: "127.0.0.1:0", kbsCert: tls.certFile, kbsKey: tls.keyFile },
  });
  kbs = { url: `https://127.0.0.1:${f.running.ports.kbsPort}`, ca: tls.caPem };
});
after(async () => {
  await f.service.close();
  rmSync(tls.dir, { recursive: true, force: true });
});

describe("KBS protocol: the whole exchange", () => {
  for (const tee of ["tdx", "sgx"] as const) {
    it(`${tee}: auth, attest, resource as a JWE to the TEE key (cookie and Bearer)`, async () => {
      const h = await handshake(kbs, tee, tee === "tdx" ? (rd) => tdxQuote(rd) : (rd) => sgxQuote(rd));
      assert.equal(h.attest.status, 200, JSON.stringify(h.attest.body));
      assert.match(h.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      const claims = JSON.parse(Buffer.from(h.token.split(".")[1] ?? "", "base64url").toString());
      assert.equal(claims.iss, "keyward-kbs");
      assert.deepEqual(claims["tee-pubkey"], h.key.jwk);
      assert.ok(claims.exp - claims.iat === 300);
      const r = await call(kbs, "GET", "/kbs/v0/resource/default/key/image_key", undefined, h.jar.headers());
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const jwe = r.body as Record<string, string>;
      assert.deepEqual(Object.keys(jwe), ["protected", "encrypted_key", "iv", "ciphertext", "tag"]);
      assert.equal(decryptKbsResponse(h.key.privateKey, jwe).toString(), "s3cr3t-image-key");
      const standard = await flattenedDecrypt(jwe as unknown as FlattenedJWE, h.key.privateKey);
      assert.equal(Buffer.from(standard.plaintext).toString(), "s3cr3t-image-key");
      const bearer = await call(kbs, "GET", "/kbs/v0/resource/default/key/image_key", undefined, {
        authorization: `Bearer ${h.token}`,
      });
      assert.equal(bearer.status, 200);
      const entry = (await f.store.readAudit()).at(-1);
      assert.equal(entry?.action, "secrets.get");
      assert.equal(entry?.outcome, "allowed");
      assert.equal(entry?.policyId, tee === "tdx" ? "coco-tdx" : "coco-sgx");
      assert.equal((entry?.detail as { via?: string } | undefined)?.via, "kbs");
      assert.equal(entry?.subject, tee === "tdx" ? `tdx:${hex(MRTD)}` : `sgx:${hex(mr(0xc5))}`);
    });
  }

  it("answers a Challenge with a base64 32-byte nonce, SHA-384 and a scoped, HttpOnly, Secure cookie", async () => {
    const a = await call(kbs, "POST", "/kbs/v0/auth", { version: "0.4.0", tee: "tdx", "extra-params": "" });
    assert.equal(a.status, 200);
    const c = a.body as { nonce: string; "extra-params": Record<string, string> };
    assert.equal(Buffer.from(c.nonce, "base64").length, 32);
    assert.deepEqual(c["extra-params"], { "selected-hash-algorithm": "sha384" });
    assert.match(
      a.setCookie[0] ?? "",
      /^kbs-session-id=[0-9a-f]{32}; Expires=.*; Path=\/kbs\/v0; HttpOnly; Secure$/,
    );
  });
});

describe("KBS protocol: refusals", () => {
  it("refuses a tampered nonce: evidence for another nonce, or runtime-data naming another nonce", async () => {
    const other = await call(kbs, "POST", "/kbs/v0/auth", {
      version: "0.4.0",
      tee: "tdx",
      "extra-params": {},
    });
    const otherNonce = (other.body as { nonce: string }).nonce;
    const h = await handshake(kbs, "tdx", () => tdxQuote(reportDataFor(otherNonce, teeKeyPair().jwk)));
    assert.equal(h.attest.status, 401);
    assert.equal(
      problem(h.attest).type,
      "https://github.com/confidential-containers/kbs/errors/AttestationError",
    );
    assert.match(problem(h.attest).detail, /ERR_KBS_EVIDENCE_BINDING/);

    const jar = new CookieJar();
    const auth = await call(kbs, "POST", "/kbs/v0/auth", {
      version: "0.4.0",
      tee: "tdx",
      "extra-params": {},
    });
    jar.take(auth);
    const key = teeKeyPair();
    const a = await call(
      kbs,
      "POST",
      "/kbs/v0/attest",
      {
        "runtime-data": { nonce: otherNonce, "tee-pubkey": key.jwk },
        "tee-evidence": {
          primary_evidence: evidenceOf("tdx", tdxQuote(reportDataFor(otherNonce, key.jwk))),
          additional_evidence: "",
        },
      },
      jar.headers(),
    );
    assert.equal(a.status, 401);
    assert.match(problem(a).detail, /not the session's nonce/);
  });

  it("refuses evidence bound to another TEE key than the one in runtime-data", async () => {
    const jar = new CookieJar();
    const auth = await call(kbs, "POST", "/kbs/v0/auth", {
      version: "0.4.0",
      tee: "sgx",
      "extra-params": {},
    });
    jar.take(auth);
    const nonce = (auth.body as { nonce: string }).nonce;
    const bound = teeKeyPair();
    const sent = teeKeyPair();
    const a = await call(
      kbs,
      "POST",
      "/kbs/v0/attest",
      {
        "runtime-data": { nonce, "tee-pubkey": sent.jwk },
        "tee-evidence": {
          primary_evidence: evidenceOf("sgx", sgxQuote(reportDataFor(nonce, bound.jwk))),
          additional_evidence: "",
        },
      },
      jar.headers(),
    );
    assert.equal(a.status, 401);
    assert.match(problem(a).detail, /ERR_KBS_EVIDENCE_BINDING: report data is not SHA-384/);
  });

  it("refuses a replayed Attestation on its session and on a new session", async () => {
    const h = await handshake(kbs, "tdx", (rd) => tdxQuote(rd));
    assert.equal(h.attest.status, 200);
    const body = (q: Uint8Array, n: string) => ({
      "runtime-data": { nonce: n, "tee-pubkey": h.key.jwk },
      "tee-evidence": { primary_evidence: evidenceOf("tdx", q), additional_evidence: "" },
    });
    // The same session again: its challenge was answered.
    const again = await call(kbs, "POST", "/kbs/v0/attest", body(new Uint8Array(10), "x"), h.jar.headers());
    assert.equal(again.status, 401);
    assert.match(problem(again).detail, /ERR_KBS_SESSION_INVALID/);
    // Captured evidence replayed on a fresh session: its nonce is not the new one.
    const first = await call(kbs, "POST", "/kbs/v0/auth", {
      version: "0.4.0",
      tee: "tdx",
      "extra-params": {},
    });
    const jar = new CookieJar();
    jar.take(first);
    const oldNonce = (first.body as { nonce: string }).nonce;
    const captured = body(tdxQuote(reportDataFor(oldNonce, h.key.jwk)), oldNonce);
    assert.equal((await call(kbs, "POST", "/kbs/v0/attest", captured, jar.headers())).status, 200);
    const fresh = new CookieJar();
    fresh.take(await call(kbs, "POST", "/kbs/v0/auth", { version: "0.4.0", tee: "tdx", "extra-params": {} }));
    const replay = await call(kbs, "POST", "/kbs/v0/attest", captured, fresh.headers());
    assert.equal(replay.status, 401);
    assert.match(problem(replay).detail, /not the session's nonce/);
  });

  it("refuses an expired token (401 TokenVerifierError) and an expired session cookie", async () => {
    const h = await handshake(kbs, "sgx", (rd) => sgxQuote(rd));
    clock += 301_000;
    try {
      const byBearer = await call(kbs, "GET", "/kbs/v0/resource/default/key/image_key", undefined, {
        authorization: `Bearer ${h.token}`,
      });
      assert.equal(byBearer.status, 401);
      assert.equal(
        problem(byBearer).type,
        "https://github.com/confidential-containers/kbs/errors/TokenVerifierError",
      );
      assert.match(problem(byBearer).detail, /expired/);
      const byCookie = await call(
        kbs,
        "GET",
        "/kbs/v0/resource/default/key/image_key",
        undefined,
        h.jar.headers(),
      );
      assert.equal(byCookie.status, 401);
      assert.equal(
        problem(byCookie).type,
        "https://github.com/confidential-containers/kbs/errors/TokenNotFound",
      );
    } finally {
      clock -= 301_000;
    }
  });

  it("refuses a token from another service, and a malformed one", async () => {
    const h = await handshake(kbs, "tdx", (rd) => tdxQuote(rd));
    const claims = JSON.parse(Buffer.from(h.token.split(".")[1] ?? "", "base64url").toString());
    const foreign = await issueToken(
      tokenKeyOf(randomBytes(32)),
      {
        subject: claims.sub,
        tee: "tdx",
        teePubkey: h.key.jwk as never,
        verified: verifiedFromRecord(claims["keyward.claims"]),
      },
      clock,
      300,
    );
    for (const token of [foreign.token, "not.a.jwt", `${h.token.slice(0, -4)}AAAA`]) {
      const r = await call(kbs, "GET", "/kbs/v0/resource/default/key/image_key", undefined, {
        authorization: `Bearer ${token}`,
      });
      assert.equal(r.status, 401, token);
      assert.equal(
        problem(r).type,
        "https://github.com/confidential-containers/kbs/errors/TokenVerifierError",
      );
    }
  });

  it("403 for a resource the policy does not grant, 404 for a granted one with no value or a bad path", async () => {
    const h = await handshake(kbs, "tdx", (rd) => tdxQuote(rd));
    const denied = await call(kbs, "GET", "/kbs/v0/resource/default/key/other", undefined, h.jar.headers());
    assert.equal(denied.status, 403);
    assert.equal(problem(denied).type, "https://github.com/confidential-containers/kbs/errors/PolicyDeny");
    const entry = (await f.store.readAudit()).at(-1);
    assert.equal(entry?.outcome, "denied");
    assert.deepEqual((entry?.detail as { names?: string[] } | undefined)?.names, ["default/key/other"]);
    const absent = await call(kbs, "GET", "/kbs/v0/resource/default/key/absent", undefined, h.jar.headers());
    assert.equal(absent.status, 404);
    assert.equal(
      problem(absent).type,
      "https://github.com/confidential-containers/kbs/errors/ResourceNotFound",
    );
    for (const path of [
      "/kbs/v0/resource/a/b",
      "/kbs/v0/resource/a/b/c/d",
      "/kbs/v0/resource/a/%2e%2e/c",
      "/kbs/v0/nothing",
    ]) {
      const r = await call(kbs, "GET", path, undefined, h.jar.headers());
      assert.equal(r.status, 404, path);
      assert.equal(
        problem(r).type,
        "https://github.com/confidential-containers/kbs/errors/InvalidRequestPath",
      );
    }
    const none = await call(kbs, "GET", "/kbs/v0/resource/default/key/image_key");
    assert.equal(none.status, 401);
    assert.equal(problem(none).type, "https://github.com/confidential-containers/kbs/errors/TokenNotFound");
  });

  it("refuses evidence no policy accepts (audited), a quote of the other TEE, other TEEs and device evidence", async () => {
    const unknown = await handshake(kbs, "tdx", (rd) => tdxQuote(rd, new Uint8Array(48).fill(1)));
    assert.equal(unknown.attest.status, 401);
    assert.equal(
      problem(unknown.attest).type,
      "https://github.com/confidential-containers/kbs/errors/PolicyDeny",
    );
    const entry = (await f.store.readAudit()).at(-1);
    assert.equal(entry?.outcome, "denied");
    assert.equal((entry?.detail as { via?: string } | undefined)?.via, "kbs");
    const crossed = await handshake(kbs, "tdx", (rd) => sgxQuote(rd));
    assert.equal(crossed.attest.status, 401);
    assert.match(problem(crossed.attest).detail, /session is for tdx but the evidence is a sgx quote/);
    const snp = await call(kbs, "POST", "/kbs/v0/auth", { version: "0.4.0", tee: "snp", "extra-params": {} });
    assert.equal(snp.status, 401);
    assert.match(problem(snp).detail, /"tdx" and "sgx"/);
    const garbage = await call(kbs, "POST", "/kbs/v0/auth", "{not json");
    assert.equal(garbage.status, 401);
    const noCookie = await call(kbs, "POST", "/kbs/v0/attest", {});
    assert.equal(noCookie.status, 401);
    assert.match(problem(noCookie).detail, /ERR_KBS_SESSION_INVALID/);
  });
});

describe("KBS protocol: init-data", () => {
  it("accepts init-data whose SHA-384 is the TD's MRCONFIGID, refuses other init-data", async () => {
    const body =
      'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n"aa.toml" = """\n[token_configs.kbs]\nurl = "https://kbs"\n"""\n';
    const digest = createHash("sha384").update(body).digest();
    for (const [initBody, status] of [
      [body, 200],
      [body.replace("kbs", "evil"), 401],
    ] as const) {
      const jar = new CookieJar();
      const auth = await call(kbs, "POST", "/kbs/v0/auth", {
        version: "0.4.0",
        tee: "tdx",
        "extra-params": {},
      });
      jar.take(auth);
      const nonce = (auth.body as { nonce: string }).nonce;
      const key = teeKeyPair();
      const quote = f.platform.quoteTdx({
        mrTd: MRTD,
        reportData: reportDataFor(nonce, key.jwk),
        mrConfigId: new Uint8Array(digest),
      });
      const a = await call(
        kbs,
        "POST",
        "/kbs/v0/attest",
        {
          "init-data": { format: "toml", body: initBody },
          "runtime-data": { nonce, "tee-pubkey": key.jwk },
          "tee-evidence": { primary_evidence: evidenceOf("tdx", quote), additional_evidence: "" },
        },
        jar.headers(),
      );
      assert.equal(a.status, status, JSON.stringify(a.body));
      if (status === 401) assert.match(problem(a).detail, /init-data is not the measured MRCONFIGID/);
    }
  });
});

describe("KBS protocol: version", () => {
  it("accepts 0.4.0 (and build metadata), refuses every other published version with Trustee's mismatch detail", async () => {
    for (const version of ["0.4.0", "0.4.0+build.7"]) {
      const a = await call(kbs, "POST", "/kbs/v0/auth", { version, tee: "tdx", "extra-params": {} });
      assert.equal(a.status, 200, version);
    }
    for (const version of ["0.1.0", "0.1.1", "0.2.0", "0.3.0", "0.4.0-rc.1", "0.4.1", "0.5.0", "1.0.0"]) {
      const a = await call(kbs, "POST", "/kbs/v0/auth", { version, tee: "tdx", "extra-params": {} });
      assert.equal(a.status, 401, version);
      assert.equal(problem(a).type, "https://github.com/confidential-containers/kbs/errors/AttestationError");
      assert.match(
        problem(a).detail,
        new RegExp(
          `KBS Client Protocol Version Mismatch: expect =0\\.4\\.0 while the request is ${version.replace(/[.+]/g, "\\$&")}`,
        ),
      );
    }
    for (const version of ["abc", "0.4", "v0.4.0", 4]) {
      const a = await call(kbs, "POST", "/kbs/v0/auth", { version, tee: "tdx", "extra-params": {} });
      assert.equal(a.status, 401, String(version));
    }
    // A 0.3.0-style Attestation (tee-pubkey at the top, no runtime-data) on a 0.4.0 session.
    const jar = new CookieJar();
    jar.take(await call(kbs, "POST", "/kbs/v0/auth", { version: "0.4.0", tee: "tdx", "extra-params": {} }));
    const old = await call(
      kbs,
      "POST",
      "/kbs/v0/attest",
      { "tee-pubkey": teeKeyPair().jwk, "tee-evidence": {} },
      jar.headers(),
    );
    assert.equal(old.status, 401);
    assert.match(problem(old).detail, /older than protocol 0\.4\.0/);
  });

  it("resource paths: three segments of letters, digits, '.', '_', '-'", () => {
    assert.deepEqual(resourcePathOf("/kbs/v0/resource/default/key/image_key"), [
      "default",
      "key",
      "image_key",
    ]);
    assert.throws(() => resourcePathOf("/kbs/v0/resource/default/key/..x/"), {
      code: "ERR_KBS_RESOURCE_PATH",
    });
    assert.throws(() => resourcePathOf("/kbs/v0/resource/%ZZ/a/b"), { code: "ERR_KBS_RESOURCE_PATH" });
  });
});

describe("KBS sessions in the store: any replica serves any step", () => {
  let replica: RunningKeyward;
  before(async () => {
    const config = loadServiceConfig(
      f.dir,
      {
        listen: "127.0.0.1:0",
        simulation: true,
        kbsListen: "127.0.0.1:0",
        kbsCert: tls.certFile,
        kbsKey: tls.keyFile,
      },
      {},
    );
    replica = await composeService(
      {
        config,
        store: await openSqliteStore(f.dir, { migrations: FEATURE_MIGRATIONS }),
        masterKey: new Uint8Array(f.masterKey),
        trust: {
          verifyPeer: simulationTrust(f.platform),
          verifyQuote: simulationQuoteTrust(f.platform),
          credential: await simulatedServiceCredential(f.platform),
          describe: {},
        },
        policies: fixedPolicies(policies),
        logger: createLogger(new Writable({ write: (_c, _e, cb) => cb() })),
      },
      { now: () => new Date(clock) },
    );
  });
  after(() => replica.shutdown());

  it("auth on one replica, attest on the other, the resource from the first", async () => {
    const other: KbsEndpoint = { url: `https://127.0.0.1:${replica.ports.kbsPort}`, ca: tls.caPem };
    const jar = new CookieJar();
    const auth = await call(kbs, "POST", "/kbs/v0/auth", {
      version: "0.4.0",
      tee: "sgx",
      "extra-params": {},
    });
    jar.take(auth);
    const nonce = (auth.body as { nonce: string }).nonce;
    const key = teeKeyPair();
    const attest = await call(
      other,
      "POST",
      "/kbs/v0/attest",
      {
        "runtime-data": { nonce, "tee-pubkey": key.jwk },
        "tee-evidence": {
          primary_evidence: evidenceOf("sgx", sgxQuote(reportDataFor(nonce, key.jwk))),
          additional_evidence: "",
        },
      },
      jar.headers(),
    );
    assert.equal(attest.status, 200, JSON.stringify(attest.body));
    jar.take(attest);
    const r = await call(kbs, "GET", "/kbs/v0/resource/default/key/image_key", undefined, jar.headers());
    assert.equal(r.status, 200);
    assert.equal(
      decryptKbsResponse(key.privateKey, r.body as Record<string, string>).toString(),
      "s3cr3t-image-key",
    );
  });
});
