/**
 * The licensing server on PostgreSQL with two replicas sharing it: tokens issued by one are
 * refreshed and verified by the other (the signing key is derived from the shared master key),
 * refresh-token reuse on one revokes the family for both, login throttling is shared, and a
 * user's logins stepped up with a one-time code of the OTP feature (the kernel's second-factor
 * seam): no code, a wrong one, a replayed one refused; the right one accepted once.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LicensingAdmin } from "@keyward/proto/keyward/v1";
import pg from "pg";
import { loadAdminClientCredentials } from "../../src/features/admin/credentials.ts";
import { LicensingClient } from "../../src/licensing-client.ts";
import { FEATURE_MIGRATIONS } from "../../src/main.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { seedPolicy } from "./helpers.ts";
import { codeAt, codeOf, otpDataDir, startOtpReplica, TestClock } from "./otp-fixture.ts";
import { requirePostgres } from "./postgres.ts";

const PG_URL = process.env.KEYWARD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `licensing_${randomBytes(6).toString("hex")}`;
const open = () => openPostgresStore({ connectionString: PG_URL, schema, migrations: FEATURE_MIGRATIONS });
const ENROLLER = 0xe7;
const PASSWORD = "replicated password";
const policies = [seedPolicy("enroller", ENROLLER, { otpEnrollment: ["alice-login"] })];
const flags = { licensingListen: "127.0.0.1:0", licensingMaxFailures: "4", otpMaxFailures: "99" };

describe("licensing on PostgreSQL, two replicas, OTP step-up", { timeout: 120_000 }, () => {
  const clock = new TestClock(Date.now());
  let fx: Awaited<ReturnType<typeof otpDataDir>>;
  let a: Awaited<ReturnType<typeof startOtpReplica>>;
  let b: Awaited<ReturnType<typeof startOtpReplica>>;
  let caPem: string;
  let otpSecret: Uint8Array;
  const at = (r: typeof a, session?: { accessToken: string; refreshToken: string }) =>
    new LicensingClient({ host: "127.0.0.1", port: r.running.ports.licensingPort ?? 0, caPem }, session);

  before(async () => {
    await requirePostgres(PG_URL); // fails, never skips, without the server
    fx = await otpDataDir(() => open());
    a = await startOtpReplica({ ...fx, policies, clock, flags });
    b = await startOtpReplica({ ...fx, store: await open(), policies, clock, flags });
    caPem = readFileSync(join(fx.dir, "licensing", "tls.crt"), "utf8");
    await a.otpAdmin.createAccount({ name: "alice-login", issuer: "Keyward licensing" });
    otpSecret = (await (await a.app(ENROLLER)).enrollment.enroll({ account: "alice-login" })).secret;
  });

  after(async () => {
    await a?.running.shutdown();
    await b?.running.shutdown();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
    if (fx !== undefined) rmSync(fx.dir, { recursive: true, force: true });
  });

  it("shares sessions: a token of one replica refreshes on the other; reuse on either revokes the family", async () => {
    await at(a).signUp("bea", PASSWORD);
    const onA = at(a);
    const first = await onA.login("bea", PASSWORD);
    const onB = at(b, first);
    assert.deepEqual(await onB.licences(), []);
    const second = await onB.refresh();
    assert.notEqual(second.refreshToken, first.refreshToken);
    // The spent token, replayed at the other replica: the family is revoked everywhere.
    assert.equal(await codeOf(at(a, first).refresh()), "ERR_LICENSING_REFRESH_INVALID");
    assert.equal(await codeOf(at(b, second).licences()), "ERR_LICENSING_TOKEN_INVALID");
    assert.equal(await codeOf(at(a, second).refresh()), "ERR_LICENSING_REFRESH_INVALID");
    // Of two concurrent uses of one live token, on two replicas, exactly one rotates it.
    const live = await at(a).login("bea", PASSWORD);
    const results = await Promise.allSettled([at(a, live).refresh(), at(b, live).refresh()]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  });

  it("shares login throttling between replicas", async () => {
    await at(a).signUp("cal", PASSWORD);
    for (const r of [a, b, a, b])
      assert.equal(await codeOf(at(r).login("cal", "not the password")), "ERR_LICENSING_LOGIN_FAILED");
    assert.equal(await codeOf(at(a).login("cal", PASSWORD)), "ERR_LICENSING_LOCKED");
    assert.equal(await codeOf(at(b).login("cal", PASSWORD)), "ERR_LICENSING_LOCKED");
  });

  it("steps logins up with a one-time code when the administrator requires one", async () => {
    await at(a).signUp("alice", PASSWORD);
    const credentials = loadAdminClientCredentials(fx.dir);
    const admin = createClient(
      LicensingAdmin,
      createGrpcTransport({
        baseUrl: `https://127.0.0.1:${a.running.adminPort}`,
        nodeOptions: { ca: credentials.caPem, cert: credentials.certPem, key: credentials.keyPem },
      }),
    );
    await admin.setUserOtp({ user: "alice", otpAccount: "alice-login" });
    const licence = await admin.issueLicence({
      user: "alice",
      product: "app",
      validSeconds: 600n,
      maxEnclaves: 1,
    });
    assert.equal(licence.status, "active");
    assert.equal(await codeOf(at(a).login("alice", PASSWORD)), "ERR_LICENSING_OTP_REQUIRED");
    assert.equal(
      await codeOf(at(a).login("alice", PASSWORD, "other-account:123456")),
      "ERR_LICENSING_OTP_REQUIRED",
    );
    const right = codeAt(otpSecret, clock.ms);
    const wrong = right === "000000" ? "000001" : "000000";
    assert.equal(await codeOf(at(a).login("alice", PASSWORD, `alice-login:${wrong}`)), "ERR_OTP_INVALID");
    const session = await at(a).login("alice", PASSWORD, `alice-login:${right}`);
    assert.equal((await at(b, session).licences())[0]?.id, licence.id);
    // The same code again, on the other replica: accepted once only.
    assert.equal(await codeOf(at(b).login("alice", PASSWORD, `alice-login:${right}`)), "ERR_OTP_REPLAYED");
    // A wrong password with a right code is a failed login; the code is not even consumed.
    clock.advance(30);
    const next = codeAt(otpSecret, clock.ms);
    assert.equal(
      await codeOf(at(a).login("alice", "wrong password!", `alice-login:${next}`)),
      "ERR_LICENSING_LOGIN_FAILED",
    );
    await at(a).login("alice", PASSWORD, `alice-login:${next}`);
    // Revocation through the admin service.
    const revoked = await admin.revokeLicence({ licenceId: licence.id });
    assert.equal(revoked.status, "revoked");
  });
});
