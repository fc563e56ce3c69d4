/**
 * `keyward licensing serve` and `keyward license signup|login|launch|connect`, as a user runs them:
 * the server as a child process (the flags `keyward deploy kubernetes --licensing` gives it) with a
 * manufactured swtpm, the client commands against it, the password never on argv and never
 * printed, the session file 0600, and the connect refusals (an untrusted AK) exiting 1.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { initSimPlatform } from "@keyward/platform/sim";
import { provisionSwtpm, type Swtpm, startSwtpm } from "@keyward/platform/tpm";

const KEYWARD = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "keyward-license-cli-"));
const data = join(dir, "data");
const at = (p: string) => join(dir, p);
const PASSWORD = "a long enough password";
let server: ChildProcess | undefined;
let tpm: Swtpm;
let port = 0;
const seen: string[] = [];

function keyward(args: readonly string[]) {
  const r = spawnSync(process.execPath, [KEYWARD, ...args], {
    encoding: "utf8",
    env: { ...process.env, KEYWARD_LICENSE_SESSION: at("session.json") },
  });
  seen.push(r.stdout, r.stderr);
  return { status: r.status, out: r.stdout, err: r.stderr };
}
const client = () => ["--server", `127.0.0.1:${port}`, "--ca", join(data, "licensing", "tls.crt")];

before(async () => {
  initSimPlatform(join(data, "sim"), { now: new Date() });
  const made = provisionSwtpm(at("tpm"), at("tpm-ca"));
  writeFileSync(at("ek-roots.pem"), made.rootCaPem);
  writeFileSync(at("ek-issuer.pem"), made.issuerCaPem);
  writeFileSync(at("password"), `${PASSWORD}\n`, { mode: 0o600 });
  tpm = await startSwtpm({ stateDir: made.stateDir, transport: "tcp" });
  const swtpm = tpm.uri.replace("tcp://", "swtpm:");
  server = spawn(
    process.execPath,
    [
      KEYWARD,
      "licensing",
      "serve",
      "--simulation",
      "--listen=127.0.0.1:0",
      `--data-dir=${data}`,
      `--tpm=${swtpm}`,
      `--ek-chain=${at("ek-issuer.pem")}`,
      "--trial=licensed-app:3600:1:pro",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  port = await new Promise<number>((resolve, reject) => {
    let out = "";
    server?.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      seen.push(d.toString());
      const m = /"licensingPort":(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    server?.stderr?.on("data", (d: Buffer) => seen.push(d.toString()));
    server?.once("exit", (code) => reject(new Error(`licensing serve exited ${code}: ${seen.join("")}`)));
  });
});

after(async () => {
  if (server !== undefined && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => server?.once("exit", r));
  }
  await tpm?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("keyward license against keyward licensing serve", { timeout: 120_000 }, () => {
  it("signs up, logs in, launches and connects verified and pinned; an untrusted AK exits 1", () => {
    const up = keyward([
      "license",
      "signup",
      "--user",
      "zoe",
      "--password-file",
      at("password"),
      ...client(),
      "--json",
    ]);
    assert.equal(up.status, 0, up.err);
    assert.deepEqual(JSON.parse(up.out), { user: "zoe" });
    const again = keyward([
      "license",
      "signup",
      "--user",
      "zoe",
      "--password-file",
      at("password"),
      ...client(),
      "--json",
    ]);
    assert.equal(again.status, 1);
    assert.equal(JSON.parse(again.out).error.code, "ERR_LICENSING_USER_EXISTS");

    const wrong = join(dir, "wrong");
    writeFileSync(wrong, "not the password\n");
    const failed = keyward([
      "license",
      "login",
      "--user",
      "zoe",
      "--password-file",
      wrong,
      ...client(),
      "--json",
    ]);
    assert.equal(failed.status, 1);
    assert.equal(JSON.parse(failed.out).error.code, "ERR_LICENSING_LOGIN_FAILED");

    const login = keyward([
      "license",
      "login",
      "--user",
      "zoe",
      "--password-file",
      at("password"),
      ...client(),
      "--json",
    ]);
    assert.equal(login.status, 0, login.err);
    assert.equal(statSync(at("session.json")).mode & 0o777, 0o600);
    const session = JSON.parse(readFileSync(at("session.json"), "utf8")) as {
      accessToken: string;
      refreshToken: string;
    };
    assert.ok(session.accessToken.length > 100 && session.refreshToken.length === 43);

    const launch = keyward(["license", "launch", ...client(), "--json"]);
    assert.equal(launch.status, 0, launch.err);
    const e = JSON.parse(launch.out) as {
      enclave: string;
      host: string;
      port: number;
      certificateSha256: string;
    };
    assert.match(e.certificateSha256, /^[0-9a-f]{64}$/);

    const connect = keyward([
      "license",
      "connect",
      e.enclave,
      "--ek-roots",
      at("ek-roots.pem"),
      "--get",
      "/hello",
      ...client(),
      "--json",
    ]);
    assert.equal(connect.status, 0, connect.err);
    const result = JSON.parse(connect.out) as {
      verified: boolean;
      certificateSha256: string;
      akName: string;
      answer: { status: number; body: string };
    };
    assert.equal(result.verified, true);
    assert.equal(result.certificateSha256, e.certificateSha256);
    assert.equal(result.answer.status, 200);
    assert.equal(JSON.parse(result.answer.body).message, "hello zoe");

    // The AK pinned by the Name the first connect reported: accepted; any other Name: exit 1.
    const pinned = keyward([
      "license",
      "connect",
      e.enclave,
      "--ak-name",
      result.akName,
      ...client(),
      "--json",
    ]);
    assert.equal(pinned.status, 0, pinned.err);
    const other = keyward([
      "license",
      "connect",
      e.enclave,
      "--ak-name",
      `000b${"ab".repeat(32)}`,
      ...client(),
      "--json",
    ]);
    assert.equal(other.status, 1);
    assert.equal(JSON.parse(other.out).error.code, "ERR_LICENSING_AK_UNTRUSTED");
    // No trust given: a usage error.
    assert.equal(keyward(["license", "connect", e.enclave, ...client()]).status, 2);
    // The licence allows one enclave.
    const second = keyward(["license", "launch", ...client(), "--json"]);
    assert.equal(second.status, 1);
    assert.equal(JSON.parse(second.out).error.code, "ERR_LICENSING_LIMIT");

    // Neither the password nor a token ever reached an output or the server's log.
    const everything = seen.join("\n");
    assert.ok(!everything.includes(PASSWORD), "password printed");
    assert.ok(!everything.includes(session.refreshToken), "refresh token printed");
    assert.ok(!everything.includes(session.accessToken), "access token printed");
  });
});
