/**
 * Two replicas of the service on one PostgreSQL database (127.0.0.1:5432, db `test`, a unique
 * schema): 64 concurrent submissions of one valid code, spread over both replicas, are accepted
 * exactly once (63 ERR_OTP_REPLAYED); the one-time enrollment raced from both replicas hands the
 * secret over once; a lockout made on one replica holds on the other. PostgreSQL must be
 * reachable: this test fails rather than skips.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { fromConnectError } from "../../src/errors/connect.ts";
import { FEATURE_MIGRATIONS } from "../../src/main.ts";
import { openPostgresStore } from "../../src/store/postgres/engine.ts";
import { seedPolicy } from "./helpers.ts";
import { codeAt, codeOf, otpDataDir, startOtpReplica, TestClock } from "./otp-fixture.ts";
import { PG_URL, requirePostgres } from "./postgres.ts";

const schema = `kw_otp_${process.pid}_${randomBytes(4).toString("hex")}`;
const open = () => openPostgresStore({ connectionString: PG_URL, schema, migrations: FEATURE_MIGRATIONS });
const ENROLLER = 0xe1;
const policies = [seedPolicy("enroller", ENROLLER, { otpEnrollment: ["ops", "race", "shared-lock"] })];

describe("OTP on PostgreSQL with two replicas", () => {
  const clock = new TestClock(Date.UTC(2030, 0, 1, 0, 0, 10));
  let fx: Awaited<ReturnType<typeof otpDataDir>>;
  let a: Awaited<ReturnType<typeof startOtpReplica>>;
  let b: Awaited<ReturnType<typeof startOtpReplica>>;
  let secret: Uint8Array;

  before(async () => {
    await requirePostgres();
    fx = await otpDataDir(() => open());
    const flags = { otpMaxFailures: "99", otpClientMaxFailures: "100000" };
    a = await startOtpReplica({ ...fx, policies, clock, flags });
    b = await startOtpReplica({ ...fx, store: await open(), policies, clock, flags });
    await a.otpAdmin.createAccount({ name: "ops", issuer: "ACME", roles: ["admin"] });
    secret = (await (await b.app(ENROLLER)).enrollment.enroll({ account: "ops" })).secret;
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

  it("64 concurrent submissions of one code to two replicas: exactly one accepted, 63 ERR_OTP_REPLAYED", async () => {
    clock.advance(60);
    const code = codeAt(secret, clock.ms);
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        codeOf((i % 2 === 0 ? a : b).otpAdmin.verify({ account: "ops", code })),
      ),
    );
    assert.equal(outcomes.filter((o) => o === "resolved").length, 1);
    assert.equal(outcomes.filter((o) => o === "ERR_OTP_REPLAYED").length, 63);
    // The next step's code is accepted once, on either replica.
    clock.advance(30);
    const next = codeAt(secret, clock.ms);
    assert.equal((await b.otpAdmin.verify({ account: "ops", code: next })).accepted, true);
    assert.equal(await codeOf(a.otpAdmin.verify({ account: "ops", code: next })), "ERR_OTP_REPLAYED");
  });

  it("the one-time enrollment raced on both replicas hands the secret over once", async () => {
    await b.otpAdmin.createAccount({ name: "race", issuer: "ACME" });
    const apps = await Promise.all([a.app(ENROLLER), b.app(ENROLLER), a.app(ENROLLER), b.app(ENROLLER)]);
    const outcomes = await Promise.all(apps.map((app) => codeOf(app.enrollment.enroll({ account: "race" }))));
    assert.deepEqual(outcomes.sort(), [
      "ERR_OTP_ENROLLMENT_USED",
      "ERR_OTP_ENROLLMENT_USED",
      "ERR_OTP_ENROLLMENT_USED",
      "resolved",
    ]);
  });

  it("a lockout made through one replica holds on the other", async () => {
    await a.otpAdmin.createAccount({ name: "shared-lock", issuer: "ACME" });
    const s = (await (await a.app(ENROLLER)).enrollment.enroll({ account: "shared-lock" })).secret;
    clock.advance(60);
    const right = codeAt(s, clock.ms);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
    // 99 failures: the 99th locks for 30 s on every replica.
    for (let i = 0; i < 99; i++)
      await codeOf((i % 2 === 0 ? a : b).otpAdmin.verify({ account: "shared-lock", code: wrong }));
    let failure: unknown;
    try {
      await b.otpAdmin.verify({ account: "shared-lock", code: right });
    } catch (e) {
      failure = fromConnectError(e);
    }
    assert.equal((failure as { code: string }).code, "ERR_OTP_LOCKED");
    assert.equal((failure as { detail: { retryAfter: number } }).detail.retryAfter, 30);
  });
});
