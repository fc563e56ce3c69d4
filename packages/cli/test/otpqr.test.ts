/**
 * otpqr end to end, with real parts: `keyward serve` in another process, otpqr under the simulated
 * launcher (`keyward enclave run --manifest examples/otpqr/app.toml`) over mutual RA-TLS, its SVG
 * rendered by rsvg-convert and decoded by zbarimg (the decoded text equals the key URI byte for
 * byte, checked against the `--format url` of the same account's rules), a code computed from the
 * decoded secret accepted by `keyward otp verify` once and refused the second time. Then the ways a
 * run is refused: a second run (local marker), a run after the marker was deleted (the service's
 * ticket), an edited marker, an existing output file (nothing overwritten, the ticket unspent), an
 * ungranted account; and no secret in any captured output, the service's log or the audit log.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { initSimPlatform } from "@keyward/platform/sim";
import { Secret, TOTP, URI } from "otpauth";
import { spawnServe } from "../../server/test/service/helpers.ts";

const KEYWARD = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const MANIFEST = fileURLToPath(new URL("../../../examples/otpqr/app.toml", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "keyward-otpqr-"));
const children: ChildProcess[] = [];
const seen: string[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function keyward(args: readonly string[]) {
  // PWD as a shell sets it: otpqr resolves relative paths against the caller's directory.
  const r = spawnSync(process.execPath, [KEYWARD, ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { ...process.env, PWD: dir },
  });
  seen.push(r.stdout, r.stderr);
  return { status: r.status, out: r.stdout, err: r.stderr };
}

let port = 0;
let adminPort = 0;
const admin = () => ["--admin", `127.0.0.1:${adminPort}`, "--data-dir", dir];

/** otpqr under the simulated launcher, from the test's directory (relative --out resolves there). */
function otpqr(account: string, out: string, state: string, format = "svg") {
  return keyward([
    "enclave",
    "run",
    "--manifest",
    MANIFEST,
    "--data-dir",
    dir,
    "--",
    "--account",
    account,
    "--server",
    `127.0.0.1:${port}`,
    "--format",
    format,
    "--out",
    out,
    "--data-dir",
    dir,
    "--state-dir",
    join(dir, state),
  ]);
}

function decodeSvg(file: string): string {
  const png = spawnSync("rsvg-convert", ["-w", "400", "-b", "white", file]);
  assert.equal(png.status, 0, String(png.stderr));
  const z = spawnSync("zbarimg", ["--nodbus", "-q", "--raw", "-"], { input: png.stdout });
  assert.equal(z.status, 0, String(z.stderr));
  return z.stdout.toString("utf8");
}

describe("otpqr: one-time enrollment as an enclave app", () => {
  const secrets: string[] = [];

  before(async () => {
    initSimPlatform(join(dir, "sim"), { now: new Date() });
    assert.equal(keyward(["admin", "init", "--data-dir", dir]).status, 0);
    mkdirSync(join(dir, "policies"));
    const mr = Buffer.from(measure(loadManifest(MANIFEST)).mrEnclave).toString("hex");
    writeFileSync(
      join(dir, "policies", "otpqr.json"),
      JSON.stringify({
        id: "otpqr",
        mr_enclave: mr,
        platforms: ["simulated"],
        otpEnrollment: ["ci-signer", "db-admin"],
      }),
    );
    for (const name of ["ci-signer", "db-admin", "not-granted"]) {
      const r = keyward([
        "admin",
        "otp",
        "create-account",
        name,
        "--issuer",
        "ACME Trust & Co",
        "--data-dir",
        dir,
        "--simulation",
      ]);
      assert.equal(r.status, 0, r.err);
    }
    const started = await spawnServe(KEYWARD, dir, ["--admin-listen", "127.0.0.1:0"]);
    children.push(started.child);
    started.child.stdout?.on("data", (d: Buffer) => seen.push(d.toString()));
    started.child.stderr?.on("data", (d: Buffer) => seen.push(d.toString()));
    port = started.port;
    adminPort = started.adminPort as number;
  });

  it("writes an SVG QR code (0600) that decodes to the key URI; a code from it is accepted once", () => {
    const r = otpqr("ci-signer", "ci-signer.svg", "state-1");
    assert.equal(r.status, 0, r.err);
    const file = join(dir, "ci-signer.svg");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(
      r.out,
      `otpqr: wrote the QR code (SVG) of OTP account ci-signer to ${file} (mode 0600).\nAdd it to an authenticator app, check one code with  keyward otp verify, then remove it:\n  shred -n 3 -z -u ${file}\n`,
    );
    const svg = readFileSync(file, "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.doesNotMatch(svg, /https?:\/\/(?!www\.w3\.org)/, "no chart service URL");
    const decoded = decodeSvg(file);
    const uri = decoded.replace(/\n$/, "");
    assert.equal(decoded, `${uri}\n`, "zbarimg prints the text and one newline");
    assert.match(
      uri,
      /^otpauth:\/\/totp\/ACME%20Trust%20%26%20Co:ci-signer\?issuer=ACME%20Trust%20%26%20Co&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30$/,
    );
    const totp = URI.parse(uri) as TOTP;
    secrets.push(totp.secret.base32, totp.secret.hex, Buffer.from(totp.secret.bytes).toString("base64"));
    // The same account's URI rebuilt from its decoded secret is the decoded text, byte for byte.
    assert.equal(
      new TOTP({
        issuer: "ACME Trust & Co",
        label: "ci-signer",
        secret: Secret.fromBase32(totp.secret.base32),
      }).toString(),
      uri,
    );
    const code = totp.generate();
    const ok = keyward(["otp", "verify", "--account", "ci-signer", "--code", code, "--json", ...admin()]);
    assert.equal(ok.status, 0, ok.err);
    assert.equal(JSON.parse(ok.out).accepted, true);
    const again = keyward(["otp", "verify", "--account", "ci-signer", "--code", code, "--json", ...admin()]);
    assert.equal(again.status, 1);
    assert.equal(JSON.parse(again.out).error.code, "ERR_OTP_REPLAYED");
  });

  it("refuses a second run (the local marker) and, with the marker deleted, the service refuses (its ticket)", () => {
    const second = otpqr("ci-signer", "second.svg", "state-1");
    assert.equal(second.status, 1);
    assert.match(second.err, /otpqr: ERR_OTP_ENROLLMENT_USED: this otpqr ran already/);
    assert.ok(!existsSync(join(dir, "second.svg")), "no file made");
    unlinkSync(join(dir, "state-1", "single_run", "once"));
    const afterDelete = otpqr("ci-signer", "third.svg", "state-1");
    assert.equal(afterDelete.status, 1);
    assert.match(
      afterDelete.err,
      /otpqr: ERR_OTP_ENROLLMENT_USED: OTP account "ci-signer" was enrolled already/,
    );
    assert.ok(!existsSync(join(dir, "third.svg")), "no file made, no secret");
    assert.ok(existsSync(join(dir, "state-1", "single_run", "once")), "the marker is back: the run counted");
  });

  it("detects an edited marker (ERR_OTP_MARKER_TAMPERED) before it asks the service for anything", () => {
    const path = join(dir, "state-1", "single_run", "once");
    const m = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...m, account: "db-admin" }));
    const r = otpqr("db-admin", "db.svg", "state-1");
    assert.equal(r.status, 1);
    assert.match(r.err, /otpqr: ERR_OTP_MARKER_TAMPERED/);
    assert.ok(!existsSync(join(dir, "db.svg")));
    const listed = keyward(["admin", "otp", "list-accounts", "--json", ...admin()]);
    const db = listed.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((a) => a.name === "db-admin");
    assert.equal(db.enrollment, "open", "db-admin's ticket is unspent");
  });

  it("refuses an existing output file (nothing overwritten, ticket unspent), then writes the URI form", () => {
    writeFileSync(join(dir, "taken.txt"), "keep me");
    const r = otpqr("db-admin", "taken.txt", "state-2", "url");
    assert.equal(r.status, 2);
    assert.match(r.err, /taken\.txt exists already: otpqr never overwrites a file/);
    assert.equal(readFileSync(join(dir, "taken.txt"), "utf8"), "keep me");
    assert.ok(!existsSync(join(dir, "state-2", "single_run", "once")), "no marker: the run did not happen");
    const ok = otpqr("db-admin", "db-admin.txt", "state-2", "url");
    assert.equal(ok.status, 0, ok.err);
    const text = readFileSync(join(dir, "db-admin.txt"), "utf8");
    assert.match(
      text,
      /^otpauth:\/\/totp\/ACME%20Trust%20%26%20Co:db-admin\?issuer=ACME%20Trust%20%26%20Co&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30\n$/,
    );
    const totp = URI.parse(text.trim()) as TOTP;
    secrets.push(totp.secret.base32, totp.secret.hex, Buffer.from(totp.secret.bytes).toString("base64"));
  });

  it("an account the policy does not grant: denied, and the run leaves no marker and no file", () => {
    const r = otpqr("not-granted", "ng.svg", "state-3");
    assert.equal(r.status, 1);
    assert.match(r.err, /otpqr: ERR_SERVICE_DENIED/);
    assert.ok(!existsSync(join(dir, "ng.svg")));
    assert.ok(
      !existsSync(join(dir, "state-3", "single_run", "once")),
      "the operator may fix the policy and run it",
    );
    assert.equal(otpqr("ci-signer", "x.svg", "state-4", "pdf").status, 2);
    assert.equal(
      otpqr("ci-signer", "x.svg", "state-4").status,
      1,
      "fresh state, spent ticket: refused by the service",
    );
  });

  it("re-enrollment by an administrator: a new secret through a fresh otpqr; the old secret's codes stop", () => {
    const old = URI.parse(decodeSvg(join(dir, "ci-signer.svg")).trim()) as TOTP;
    const r = keyward(["admin", "otp", "reenroll-account", "ci-signer", "--json", ...admin()]);
    assert.equal(r.status, 0, r.err);
    assert.equal(JSON.parse(r.out).enrollment, "open");
    const again = otpqr("ci-signer", "ci-signer-2.txt", "state-5", "url");
    assert.equal(again.status, 0, again.err);
    const fresh = URI.parse(readFileSync(join(dir, "ci-signer-2.txt"), "utf8").trim()) as TOTP;
    secrets.push(fresh.secret.base32, fresh.secret.hex, Buffer.from(fresh.secret.bytes).toString("base64"));
    assert.notEqual(fresh.secret.base32, old.secret.base32);
    const stale = keyward([
      "otp",
      "verify",
      "--account",
      "ci-signer",
      "--code",
      old.generate({ timestamp: Date.now() + 30_000 }),
      "--json",
      ...admin(),
    ]);
    assert.equal(stale.status, 1);
    const code = JSON.parse(stale.out).error.code;
    // One chance in a million that the old and new secrets share this code.
    assert.ok(code === "ERR_OTP_INVALID", stale.out);
    const ok = keyward([
      "otp",
      "verify",
      "--account",
      "ci-signer",
      "--code",
      fresh.generate({ timestamp: Date.now() + 30_000 }),
      ...admin(),
    ]);
    assert.equal(ok.status, 0, ok.err);
  });

  it("never puts a secret in any output, the service's log or the audit log", () => {
    const audit = keyward(["audit", "read", "--json", ...admin()]);
    assert.equal(audit.status, 0, audit.err);
    assert.match(audit.out, /"otp\.enroll"/);
    const all = seen.join("\n");
    assert.equal(secrets.length, 9);
    for (const s of secrets) assert.ok(!all.includes(s), "a secret in the output");
    assert.ok(!all.includes("otpauth://"), "no key URI printed");
    assert.ok(!all.includes("<svg"), "no SVG printed");
  });
});
