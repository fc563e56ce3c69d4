/**
 * The OTP feature in the composed service on SQLite (real listeners, real TLS): accounts, the
 * one-time enrollment through the gate, each code accepted once (64 concurrent submissions → one
 * accepted), throttling with its expiry, admin step-up (refusals leave the store and the audit
 * chain untouched), the gate's second factor (`otpRequired` before KMS Sign and a release), and no
 * secret or code in any log line or audit entry.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Secret } from "otpauth";
import { fromConnectError } from "../../src/errors/connect.ts";
import { otpAccounts } from "../../src/features/otp/accounts.ts";
import { loadOrCreateKeyFile } from "../../src/kernel/envelope.ts";
import { FEATURE_MIGRATIONS } from "../../src/main.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";
import { hex, mr, seedPolicy } from "./helpers.ts";
import { CapturedLog, codeAt, codeOf, otpDataDir, startOtpReplica, TestClock } from "./otp-fixture.ts";

const base32 = (b: Uint8Array): string => new Secret({ buffer: new Uint8Array(b).buffer }).base32;
const T0 = Date.UTC(2030, 0, 1, 0, 0, 10); // 10 s into a 30 s step
const ENROLLER = 0xe1; // the app allowed to enroll
const SIGNER = 0x51; // the app whose Sign needs a code

const policies = [
  seedPolicy("enroller", ENROLLER, {
    otpEnrollment: ["release-signer", "ops", "db-reader", "lock-me", "reader"],
  }),
  seedPolicy("signer", SIGNER, {
    keys: { "image-key": ["sign"], "other-key": ["sign"] },
    otpRequired: [{ account: "release-signer", actions: ["kms.sign"], names: ["image-key"] }],
  }),
  seedPolicy("reader", 0x52, { otpRequired: [{ account: "db-reader", actions: ["secrets.get"] }] }),
];

describe("OTP on SQLite", () => {
  const clock = new TestClock(T0);
  const log = new CapturedLog();
  let fx: Awaited<ReturnType<typeof otpDataDir>>;
  let svc: Awaited<ReturnType<typeof startOtpReplica>>;
  const secrets = new Map<string, Uint8Array>();
  const codesUsed: string[] = [];
  const use = (account: string, ms = clock.ms) => {
    const c = codeAt(secrets.get(account) as Uint8Array, ms);
    codesUsed.push(c);
    return c;
  };

  before(async () => {
    fx = await otpDataDir((d) => openSqliteStore(d, { migrations: FEATURE_MIGRATIONS }));
    svc = await startOtpReplica({
      ...fx,
      policies,
      clock,
      log,
      flags: { otpMaxFailures: "99", otpClientMaxFailures: "100000" },
    });
    for (const name of ["release-signer", "ops", "db-reader"]) {
      await svc.otpAdmin.createAccount({
        name,
        issuer: "ACME Trust",
        roles: name === "ops" ? ["admin"] : [],
      });
      const app = await svc.app(ENROLLER);
      const e = await app.enrollment.enroll({ account: name });
      assert.equal(e.secret.byteLength, 20);
      secrets.set(name, e.secret);
    }
  });
  after(async () => {
    await svc.running.shutdown();
    rmSync(fx.dir, { recursive: true, force: true });
  });

  it("lists accounts without their secrets; refuses duplicates and colons", async () => {
    const { accounts } = await svc.otpAdmin.listAccounts({});
    assert.deepEqual(
      accounts.map((a) => [a.name, a.enrollment, a.algorithm, a.digits, a.period]),
      [
        ["db-reader", "used", "SHA1", 6, 30],
        ["ops", "used", "SHA1", 6, 30],
        ["release-signer", "used", "SHA1", 6, 30],
      ],
    );
    const listing = JSON.stringify(accounts, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    for (const s of secrets.values()) {
      assert.ok(!listing.includes(base32(s)));
      assert.ok(!listing.includes(Buffer.from(s).toString("hex")));
    }
    assert.equal(
      await codeOf(svc.otpAdmin.createAccount({ name: "ops", issuer: "X" })),
      "ERR_OTP_ACCOUNT_EXISTS",
    );
    assert.equal(
      await codeOf(svc.otpAdmin.createAccount({ name: "a:b", issuer: "X" })),
      "ERR_OTP_ACCOUNT_INVALID",
    );
    assert.equal(
      await codeOf(svc.otpAdmin.createAccount({ name: "ok", issuer: "A:B" })),
      "ERR_OTP_ACCOUNT_INVALID",
    );
  });

  it("hands a secret over once: a second enrollment is ERR_OTP_ENROLLMENT_USED; ungranted apps are denied", async () => {
    const app = await svc.app(ENROLLER);
    assert.equal(await codeOf(app.enrollment.enroll({ account: "ops" })), "ERR_OTP_ENROLLMENT_USED");
    const other = await svc.app(SIGNER);
    assert.equal(await codeOf(other.enrollment.enroll({ account: "ops" })), "ERR_SERVICE_DENIED");
    assert.equal(await codeOf(app.enrollment.enroll({ account: "nobody" })), "ERR_SERVICE_DENIED");
  });

  it("accepts a code once (±1 step), refuses a replay and a wrong code", async () => {
    clock.advance(60);
    const code = use("ops");
    const first = await svc.otpAdmin.verify({ account: "ops", code });
    assert.equal(first.accepted, true);
    assert.equal(Number(first.timeStep), Math.floor(clock.ms / 30_000));
    assert.equal(await codeOf(svc.otpAdmin.verify({ account: "ops", code })), "ERR_OTP_REPLAYED");
    const wrong = code === "000000" ? "000001" : "000000";
    assert.equal(await codeOf(svc.otpAdmin.verify({ account: "ops", code: wrong })), "ERR_OTP_INVALID");
    // The previous step's code is already below the watermark; the next step's is accepted (±1).
    assert.equal(
      await codeOf(svc.otpAdmin.verify({ account: "ops", code: use("ops", clock.ms - 30_000) })),
      "ERR_OTP_REPLAYED",
    );
    assert.equal(
      (await svc.otpAdmin.verify({ account: "ops", code: use("ops", clock.ms + 30_000) })).accepted,
      true,
    );
    // Two steps ahead is outside the window.
    assert.equal(
      await codeOf(svc.otpAdmin.verify({ account: "ops", code: use("ops", clock.ms + 60_000) })),
      "ERR_OTP_INVALID",
    );
    assert.equal(
      await codeOf(svc.otpAdmin.verify({ account: "nobody", code: "123456" })),
      "ERR_OTP_ACCOUNT_NOT_FOUND",
    );
  });

  it("64 concurrent submissions of one code: exactly one accepted, 63 ERR_OTP_REPLAYED", async () => {
    clock.advance(120);
    const code = use("ops");
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, () => codeOf(svc.otpAdmin.verify({ account: "ops", code }))),
    );
    assert.equal(outcomes.filter((o) => o === "resolved").length, 1);
    assert.equal(outcomes.filter((o) => o === "ERR_OTP_REPLAYED").length, 63);
  });

  it("the gate requires a code of the named account before KMS Sign, and audits account and step", async () => {
    await svc.admin.createKey({ keyId: "image-key", algorithm: "Ed25519" });
    await svc.admin.createKey({ keyId: "other-key", algorithm: "Ed25519" });
    const app = await svc.app(SIGNER);
    const message = new TextEncoder().encode("image digest");
    assert.equal(await codeOf(app.kms.sign({ keyId: "image-key", message })), "ERR_OTP_REQUIRED");
    clock.advance(300);
    const code = use("release-signer");
    // A code of another account is not the one the policy names (and is not consumed).
    const opsCode = use("ops");
    assert.equal(
      await codeOf(
        app.kms.sign({ keyId: "image-key", message }, { headers: { "keyward-otp": `ops:${opsCode}` } }),
      ),
      "ERR_OTP_REQUIRED",
    );
    const signed = await app.kms.sign(
      { keyId: "image-key", message },
      { headers: { "keyward-otp": `release-signer:${code}` } },
    );
    assert.equal(signed.signature.byteLength, 64);
    assert.equal(
      await codeOf(
        app.kms.sign(
          { keyId: "image-key", message },
          { headers: { "keyward-otp": `release-signer:${code}` } },
        ),
      ),
      "ERR_OTP_REPLAYED",
    );
    // Another key of the same policy needs no code.
    assert.equal((await app.kms.sign({ keyId: "other-key", message })).signature.byteLength, 64);
    const entries = (await svc.admin.readAudit({ fromSeq: 1n, limit: 10_000 })).entries.filter(
      (e) => e.action === "kms.sign",
    );
    const details = entries.map((e) => ({ outcome: e.outcome, detail: JSON.parse(e.detailJson) }));
    assert.deepEqual(
      details.map((d) => [d.outcome, d.detail.code ?? "", d.detail.otp ?? d.detail.otpAccount ?? ""]),
      [
        ["denied", "ERR_OTP_REQUIRED", "release-signer"],
        ["denied", "ERR_OTP_REQUIRED", "release-signer"],
        ["allowed", "", { account: "release-signer", step: Math.floor(clock.ms / 30_000) }],
        ["denied", "ERR_OTP_REPLAYED", "release-signer"],
        ["allowed", "", ""],
      ],
    );
  });

  it("a release (secrets.get) can require a code too", async () => {
    const app = await svc.app(0x52);
    assert.equal(await codeOf(app.secrets.getSecrets({})), "ERR_OTP_REQUIRED");
    clock.advance(30);
    const r = await app.secrets.getSecrets(
      {},
      { headers: { "keyward-otp": `db-reader:${use("db-reader")}` } },
    );
    assert.deepEqual(
      r.secrets.map((s) => s.name),
      ["master_key"],
    );
    assert.equal(
      await codeOf(app.secrets.getSecrets({}, { headers: { "keyward-otp": "db-reader:not-a-code" } })),
      "ERR_OTP_INVALID",
    );
  });

  it("never logs or audits a secret or a code", async () => {
    const audit = JSON.stringify(
      (await svc.admin.readAudit({ fromSeq: 1n, limit: 10_000 })).entries,
      (_k, v) => (typeof v === "bigint" ? String(v) : v),
    );
    const logs = log.lines.join("");
    assert.ok(logs.length > 0 && audit.length > 0);
    for (const s of secrets.values())
      for (const form of [base32(s), Buffer.from(s).toString("hex"), Buffer.from(s).toString("base64")]) {
        assert.ok(!audit.includes(form), "a secret in the audit log");
        assert.ok(!logs.includes(form), "a secret in the logs");
      }
    for (const c of codesUsed) {
      // Claims records hold hex that could contain six digits by chance: look for the code as a value.
      for (const form of [`"${c}"`, `:${c}"`, `:${c},`]) {
        assert.ok(!audit.includes(form), `code ${c} in the audit log`);
        assert.ok(!logs.includes(form), `code ${c} in the logs`);
      }
    }
    assert.ok(audit.includes('"otp.verify"') && audit.includes('"otp.enroll"'));
    void hex;
    void mr;
  });
});

describe("OTP throttling and admin step-up", () => {
  const clock = new TestClock(T0);
  let fx: Awaited<ReturnType<typeof otpDataDir>>;
  let svc: Awaited<ReturnType<typeof startOtpReplica>>;
  const secrets = new Map<string, Uint8Array>();
  const codeFor = (account: string, ms = clock.ms) => codeAt(secrets.get(account) as Uint8Array, ms);
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return fromConnectError(e);
    }
    return assert.fail("resolved");
  };
  const state = async () => ({
    secrets: (await svc.admin.listSecrets({})).secrets.map((s) => `${s.name}@${s.version}`),
    policies: (await svc.admin.listPolicies({})).policies.length,
    audit: await svc.admin.verifyAudit({}),
  });

  before(async () => {
    fx = await otpDataDir((d) => openSqliteStore(d, { migrations: FEATURE_MIGRATIONS }));
    // Bootstrap as `keyward admin otp create-account` does without --admin: on the local store.
    const local = otpAccounts(fx.store, () => loadOrCreateKeyFile(join(fx.dir, "master.key")), clock.now);
    await local.create("admin:local-cli", { name: "ops", issuer: "ACME", roles: ["admin"] });
    await local.create("admin:local-cli", { name: "reader", issuer: "ACME", roles: ["readers"] });
    await local.create("admin:local-cli", { name: "lock-me", issuer: "ACME" });
    svc = await startOtpReplica({
      ...fx,
      policies,
      clock,
      flags: {
        otpAdminStepUp: true,
        otpMaxFailures: "3",
        otpClientMaxFailures: "5",
        otpLockoutSeconds: "30",
      },
    });
    const app = await svc.app(ENROLLER);
    for (const name of ["ops", "reader", "lock-me"])
      secrets.set(name, (await app.enrollment.enroll({ account: name })).secret);
  });
  after(async () => {
    await svc.running.shutdown();
    rmSync(fx.dir, { recursive: true, force: true });
  });

  it("locks an account after consecutive failures, says when to retry, and unlocks when that time has passed", async () => {
    clock.advance(60);
    for (let i = 0; i < 3; i++) {
      const wrong = String((Number(codeFor("lock-me")) + 1 + i) % 1_000_000).padStart(6, "0");
      assert.equal(await codeOf(svc.otpAdmin.verify({ account: "lock-me", code: wrong })), "ERR_OTP_INVALID");
    }
    const locked = await failure(svc.otpAdmin.verify({ account: "lock-me", code: codeFor("lock-me") }));
    assert.equal(locked.code, "ERR_OTP_LOCKED");
    assert.equal(locked.detail?.retryAfter, 30);
    const listed = (await svc.otpAdmin.listAccounts({})).accounts.find((a) => a.name === "lock-me");
    assert.equal(listed?.failures, 3);
    assert.equal(listed?.lockedUntil, new Date(clock.ms + 30_000).toISOString());
    clock.advance(29);
    assert.equal(
      (await failure(svc.otpAdmin.verify({ account: "lock-me", code: codeFor("lock-me") }))).detail
        ?.retryAfter,
      1,
    );
    clock.advance(2);
    assert.equal(
      (await svc.otpAdmin.verify({ account: "lock-me", code: codeFor("lock-me") })).accepted,
      true,
    );
    assert.equal(
      (await svc.otpAdmin.listAccounts({})).accounts.find((a) => a.name === "lock-me")?.failures,
      0,
    );
  });

  it("locks a client address after consecutive failures on any account", async () => {
    clock.advance(60);
    for (let i = 0; i < 5; i++)
      assert.equal(
        await codeOf(svc.otpAdmin.verify({ account: `guess-${i}`, code: "123456" })),
        "ERR_OTP_ACCOUNT_NOT_FOUND",
      );
    const locked = await failure(svc.otpAdmin.verify({ account: "lock-me", code: codeFor("lock-me") }));
    assert.equal(locked.code, "ERR_OTP_LOCKED");
    assert.match(locked.message, /client address/);
    assert.equal(locked.detail?.retryAfter, 30);
    clock.advance(31);
    assert.equal(
      (await svc.otpAdmin.verify({ account: "lock-me", code: codeFor("lock-me") })).accepted,
      true,
    );
  });

  it("step-up: an admin change without a code, with a wrong code, or with another role's account is refused and changes nothing", async () => {
    clock.advance(60);
    const before = await state();
    const put = (headers: Record<string, string>) =>
      svc.admin.putSecret({ name: "apps/new", value: new TextEncoder().encode("v") }, { headers });
    assert.equal(await codeOf(put({})), "ERR_ADMIN_STEP_UP_REQUIRED");
    const wrong = String((Number(codeFor("ops")) + 1) % 1_000_000).padStart(6, "0");
    assert.equal(await codeOf(put({ "keyward-otp": `ops:${wrong}` })), "ERR_OTP_INVALID");
    assert.equal(
      await codeOf(put({ "keyward-otp": `reader:${codeFor("reader")}` })),
      "ERR_ADMIN_STEP_UP_REQUIRED",
    );
    assert.equal(await codeOf(put({ "keyward-otp": "ops:12" })), "ERR_OTP_INVALID");
    assert.equal(
      await codeOf(svc.otpAdmin.disableAccount({ name: "reader" }, { headers: {} })),
      "ERR_ADMIN_STEP_UP_REQUIRED",
    );
    assert.deepEqual(await state(), before);
    // The reader's code was not consumed by the refused step-up.
    assert.equal((await svc.otpAdmin.verify({ account: "reader", code: codeFor("reader") })).accepted, true);
  });

  it("step-up: a fresh code of an account bound to the operator's role allows the change once, audited without the code", async () => {
    clock.advance(60);
    const code = codeFor("ops");
    const r = await svc.admin.putSecret(
      { name: "apps/new", value: new TextEncoder().encode("v") },
      { headers: { "keyward-otp": `ops:${code}` } },
    );
    assert.equal(r.version, 1);
    assert.equal(
      await codeOf(
        svc.admin.putSecret(
          { name: "apps/new", value: new TextEncoder().encode("w") },
          { headers: { "keyward-otp": `ops:${code}` } },
        ),
      ),
      "ERR_OTP_REPLAYED",
    );
    const entries = (await svc.admin.readAudit({ fromSeq: 1n, limit: 10_000 })).entries;
    const stepUp = entries.filter((e) => e.action === "otp.step-up").map((e) => JSON.parse(e.detailJson));
    assert.deepEqual(stepUp, [{ for: "secret.put", account: "ops", step: Math.floor(clock.ms / 30_000) }]);
    assert.ok(!entries.some((e) => e.detailJson.includes(`"${code}"`)));
    // Reads need no code.
    assert.ok((await svc.admin.listSecrets({})).secrets.length >= 2);
  });
});
