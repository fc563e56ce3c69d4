/**
 * The OTP commands as an operator and a script run them, against `keyward serve` in another
 * process with admin step-up on: accounts made on the local store (bootstrap), the one-time
 * enrollment over mutual RA-TLS, `keyward admin otp …` through the Admin listener refused without
 * a code and allowed with `--otp ACCOUNT:CODE` (and, on a terminal, with a code typed at a prompt
 * that does not echo it), `keyward otp verify`'s exit statuses and JSON (accepted, replayed,
 * invalid, locked with retryAfter), and no secret in any output or in the service's log.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { initSimPlatform } from "@keyward/platform/sim";
import { OtpEnrollmentService } from "@keyward/proto/keyward/v1";
import { Secret, TOTP } from "otpauth";
import { hex, mr, simulatedCaller, spawnServe } from "../../server/test/service/helpers.ts";

const KEYWARD = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "keyward-otp-cli-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Everything any command printed, and the service's log: searched for secrets at the end. */
const seen: string[] = [];

function keyward(args: readonly string[], input?: string) {
  const r = spawnSync(process.execPath, [KEYWARD, ...args, "--data-dir", dir], {
    encoding: "utf8",
    ...(input === undefined ? {} : { input }),
  });
  seen.push(r.stdout, r.stderr);
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const totp = (secret: Uint8Array) =>
  new TOTP({
    secret: new Secret({ buffer: new Uint8Array(secret).buffer }),
    algorithm: "SHA1",
    digits: 6,
    period: 30,
  });
/** The code of `secret` one period after now (the ±1 window accepts it; a later step than now's). */
const codeAhead = (secret: Uint8Array, steps = 0) =>
  totp(secret).generate({ timestamp: Date.now() + steps * 30_000 });

/** Runs keyward under a pseudo-terminal (script(1)), answering each prompt once it is shown. */
function onTerminal(args: readonly string[], answers: readonly [RegExp, string][]) {
  const command = [
    process.execPath,
    "--disable-warning=ExperimentalWarning",
    KEYWARD,
    ...args,
    "--data-dir",
    dir,
  ]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let screen = "";
  let next = 0;
  child.stdout.on("data", (d: Buffer) => {
    screen += d.toString();
    const a = answers[next];
    if (a?.[0].test(screen)) {
      next++;
      child.stdin.write(a[1] as string);
    }
  });
  return new Promise<{ status: number | null; screen: string }>((resolve) =>
    child.on("exit", (status) => resolve({ status, screen })),
  );
}

describe("keyward admin otp and keyward otp verify against a running service", () => {
  const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "enroller.json"),
    JSON.stringify({
      id: "enroller",
      mr_enclave: hex(mr(0xe1)),
      platforms: ["simulated"],
      otpEnrollment: ["ops", "ops2", "checker"],
    }),
  );
  const secrets = new Map<string, Uint8Array>();
  let adminPort = 0;

  it("bootstraps accounts on the local store, enrolls them once, and steps up admin changes", async () => {
    assert.equal(keyward(["admin", "init"]).status, 0);
    for (const name of ["ops", "ops2", "checker"]) {
      const made = keyward([
        "admin",
        "otp",
        "create-account",
        name,
        "--issuer",
        "ACME Trust",
        ...(name === "checker" ? [] : ["--role", "admin"]),
        "--simulation",
        "--json",
      ]);
      assert.equal(made.status, 0, made.err);
      const account = JSON.parse(made.out);
      assert.equal(account.enrollment, "open");
      assert.deepEqual(
        Object.keys(account).filter((k) => /secret/i.test(k)),
        [],
      );
    }
    const started = await spawnServe(KEYWARD, dir, ["--admin-listen", "127.0.0.1:0", "--otp-admin-step-up"]);
    children.push(started.child);
    started.child.stdout?.on("data", (d: Buffer) => seen.push(d.toString()));
    started.child.stderr?.on("data", (d: Buffer) => seen.push(d.toString()));
    adminPort = started.adminPort as number;
    const admin = ["--admin", `127.0.0.1:${adminPort}`];

    const { credential, peerVerifier } = await simulatedCaller(platform, 0xe1);
    const { transport } = await createRaTlsGrpcTransport({
      host: "127.0.0.1",
      port: started.port,
      credential,
      peerVerifier,
    });
    const enrollment = createClient(OtpEnrollmentService, transport);
    for (const name of ["ops", "ops2", "checker"]) {
      secrets.set(name, (await enrollment.enroll({ account: name })).secret);
      await assert.rejects(enrollment.enroll({ account: name }), /ERR_OTP_ENROLLMENT_USED/);
    }
    const ops = secrets.get("ops") as Uint8Array;

    const refused = keyward([
      "admin",
      "otp",
      "create-account",
      "release",
      "--issuer",
      "ACME Trust",
      "--json",
      ...admin,
    ]);
    assert.equal(refused.status, 1, refused.err);
    assert.equal(JSON.parse(refused.out).error.code, "ERR_ADMIN_STEP_UP_REQUIRED");
    assert.match(refused.err, /--otp ACCOUNT:CODE/);

    const code = codeAhead(ops);
    const made = keyward([
      "admin",
      "otp",
      "create-account",
      "release",
      "--issuer",
      "ACME Trust",
      "--role",
      "release",
      "--json",
      "--otp",
      `ops:${code}`,
      ...admin,
    ]);
    assert.equal(made.status, 0, made.err);
    assert.equal(JSON.parse(made.out).name, "release");
    assert.deepEqual(JSON.parse(made.out).roles, ["release"]);

    const replayed = keyward([
      "admin",
      "otp",
      "disable-account",
      "release",
      "--otp",
      `ops:${code}`,
      "--json",
      ...admin,
    ]);
    assert.equal(replayed.status, 1);
    assert.equal(JSON.parse(replayed.out).error.code, "ERR_OTP_REPLAYED");
    const malformed = keyward([
      "admin",
      "otp",
      "disable-account",
      "release",
      "--otp",
      "ops-123456",
      ...admin,
    ]);
    assert.equal(malformed.status, 2);
    assert.doesNotMatch(malformed.err, /123456/, "a malformed --otp is not echoed");

    // On a terminal the refusal turns into a prompt: the account echoed, the code not.
    const typed = codeAhead(secrets.get("ops2") as Uint8Array, 1);
    const tty = await onTerminal(
      ["admin", "otp", "disable-account", "release", ...admin],
      [
        [/OTP account: $/m, "ops2\r"],
        [/one-time code of ops2: $/m, `${typed}\r`],
      ],
    );
    assert.equal(tty.status, 0, tty.screen);
    assert.match(tty.screen, /ERR_ADMIN_STEP_UP_REQUIRED|needs a one-time code/);
    assert.match(tty.screen, /OTP account: ops2/);
    assert.match(tty.screen, /OTP account release disabled/);
    assert.ok(!tty.screen.includes(typed), `the typed code is not echoed:\n${tty.screen}`);

    const listed = keyward(["admin", "otp", "list-accounts", "--json", ...admin]);
    assert.equal(listed.status, 0, listed.err);
    const accounts = listed.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      accounts.map((a) => [a.name, a.enrollment, a.disabled]),
      [
        ["checker", "used", false],
        ["ops", "used", false],
        ["ops2", "used", false],
        ["release", "open", true],
      ],
    );
  });

  it("otp verify: exit 0 once, then ERR_OTP_REPLAYED; ERR_OTP_INVALID; ERR_OTP_LOCKED with retryAfter", () => {
    const admin = ["--admin", `127.0.0.1:${adminPort}`];
    const checker = secrets.get("checker") as Uint8Array;
    const code = codeAhead(checker);
    const ok = keyward(["otp", "verify", "--account", "checker", "--code", code, "--json", ...admin]);
    assert.equal(ok.status, 0, ok.err);
    const accepted = JSON.parse(ok.out);
    assert.equal(accepted.accepted, true);
    assert.equal(accepted.account, "checker");
    assert.equal(typeof accepted.timeStep, "number");
    const again = keyward(
      ["otp", "verify", "--account", "checker", "--code", "-", "--json", ...admin],
      `${code}\n`,
    );
    assert.equal(again.status, 1);
    assert.equal(JSON.parse(again.out).error.code, "ERR_OTP_REPLAYED");
    // A wrong code: one that is none of the window's three.
    const window = [-1, 0, 1].map((s) => codeAhead(checker, s));
    const wrong = ["000000", "111111", "222222", "333333"].find((c) => !window.includes(c)) as string;
    const invalid = keyward(["otp", "verify", "--account", "checker", "--code", wrong, ...admin]);
    assert.equal(invalid.status, 1);
    assert.match(invalid.err, /ERR_OTP_INVALID/);
    let locked: ReturnType<typeof keyward> | undefined;
    for (let i = 0; i < 10 && locked === undefined; i++) {
      const r = keyward(["otp", "verify", "--account", "checker", "--code", wrong, "--json", ...admin]);
      assert.equal(r.status, 1);
      if (JSON.parse(r.out).error.code === "ERR_OTP_LOCKED") locked = r;
    }
    assert.ok(locked !== undefined, "locked out after consecutive failures");
    const e = JSON.parse(locked.out).error;
    assert.ok(Number.isInteger(e.retryAfter) && e.retryAfter > 0, locked.out);
    // While locked, even the right code is refused (guessing gains nothing).
    const right = keyward([
      "otp",
      "verify",
      "--account",
      "checker",
      "--code",
      codeAhead(checker, 1),
      "--json",
      ...admin,
    ]);
    assert.equal(JSON.parse(right.out).error.code, "ERR_OTP_LOCKED");
  });

  it("never prints a secret, in any command's output or the service's log", () => {
    const all = seen.join("\n");
    assert.ok(all.length > 1000);
    for (const [name, s] of secrets) {
      assert.ok(!all.includes(Buffer.from(s).toString("hex")), `${name}: hex secret`);
      assert.ok(
        !all.includes(new Secret({ buffer: new Uint8Array(s).buffer }).base32),
        `${name}: base32 secret`,
      );
      assert.ok(!all.includes(Buffer.from(s).toString("base64")), `${name}: base64 secret`);
    }
  });
});
