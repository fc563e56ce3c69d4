/**
 * The otpqr container image, built with buildah by deploy/build_image.sh from its Containerfile
 * (local stand-ins for the public bases), then run as a container engine would run it: `buildah run`
 * with chroot isolation and host networking, as user 65532. `otpqr --help`, then a full enrollment
 * against `keyward serve` on the host: the simulated platform's directory mounted read-only, the
 * output directory mounted, the SVG written there (0600) decoded on the host by rsvg-convert and
 * zbarimg, a code from it accepted once; a second run refused. Takes minutes (the image build).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { initSimPlatform } from "@keyward/platform/sim";
import { type TOTP, URI } from "otpauth";
import { spawnServe } from "../packages/server/test/service/helpers.ts";
import { BuildahStorage } from "./buildah-storage.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const KEYWARD = join(ROOT, "packages/cli/bin/keyward.ts");
const IMAGE = "localhost/keyward/otpqr:latest";
const NONROOT = 65532;
let storage: BuildahStorage | undefined;
let ctr = "";
let rootfs = "";
const children: ChildProcess[] = [];

const store = (): BuildahStorage => {
  if (storage === undefined) throw new Error("the image was not built");
  return storage;
};
const buildah = (...args: string[]): string => store().buildah(...args);
const storageArgs = (): string[] => store().args();
const keyward = (...args: string[]) => spawnSync(process.execPath, [KEYWARD, ...args], { encoding: "utf8" });

describe("the otpqr image (buildah)", { timeout: 1_800_000 }, () => {
  let built = "";
  before(() => {
    storage = new BuildahStorage("keyward-otpqr-image-");
    built = storage.build("otpqr");
    ctr = buildah("from", "--pull=false", IMAGE);
    rootfs = buildah("mount", ctr);
  });
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    storage?.remove();
  });

  it("is tagged with the version and its size; holds the executable and its libraries, no shell, no package manager", () => {
    assert.match(built, /^localhost\/keyward\/otpqr:\d+\.\d+\.\d+ \d+(\.\d+)? [kMG]B$/m);
    assert.ok(existsSync(join(rootfs, "usr/local/bin/otpqr")));
    for (const lib of ["lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libstdc++.so.6"])
      assert.ok(existsSync(join(rootfs, lib)), lib);
    for (const absent of [
      "bin/sh",
      "bin/bash",
      "usr/bin/apt",
      "usr/bin/dpkg",
      "usr/local/bin/node",
      "usr/local/bin/npm",
    ])
      assert.ok(!existsSync(join(rootfs, absent)), `${absent} must not be in the image`);
    const { config } = JSON.parse(buildah("inspect", "--type", "image", IMAGE)).OCIv1;
    assert.equal(config.User, `${NONROOT}:${NONROOT}`);
    assert.deepEqual(config.Entrypoint, ["/usr/local/bin/otpqr"]);
  });

  it("runs otpqr --help", () => {
    const r = spawnSync(
      "buildah",
      [...storageArgs(), "run", "--isolation", "chroot", ctr, "--", "/usr/local/bin/otpqr", "--help"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^usage: otpqr --account NAME --server HOST:PORT --format svg\|url --out FILE --data-dir DIR/,
    );
  });

  it("enrolls an account against a service on the host; the QR code decodes to a key URI whose code is accepted once", async () => {
    const data = mkdtempSync(join(store().dir, "service-"));
    initSimPlatform(join(data, "sim"), { now: new Date() });
    assert.equal(keyward("admin", "init", "--data-dir", data).status, 0);
    mkdirSync(join(data, "policies"));
    const mr = Buffer.from(measure(loadManifest(join(ROOT, "examples/otpqr/app.toml"))).mrEnclave).toString(
      "hex",
    );
    writeFileSync(
      join(data, "policies", "otpqr.json"),
      JSON.stringify({
        id: "otpqr",
        mr_enclave: mr,
        platforms: ["simulated"],
        otpEnrollment: ["image-signer"],
      }),
    );
    const made = keyward(
      "admin",
      "otp",
      "create-account",
      "image-signer",
      "--issuer",
      "ACME Trust",
      "--data-dir",
      data,
      "--simulation",
    );
    assert.equal(made.status, 0, made.stderr);
    const started = await spawnServe(KEYWARD, data, ["--admin-listen", "127.0.0.1:0"]);
    children.push(started.child);
    // The container reads the simulated platform (its root and the launcher's keys: 0600, so
    // handed to the image's user) and writes /out.
    const chownTree = (p: string) => {
      chownSync(p, NONROOT, NONROOT);
      if (statSync(p).isDirectory()) for (const e of readdirSync(p)) chownTree(join(p, e));
    };
    chownTree(join(data, "sim"));
    const out = mkdtempSync(join(store().dir, "out-"));
    chownSync(out, NONROOT, NONROOT);
    const run = (file: string) =>
      spawnSync(
        "buildah",
        [
          ...storageArgs(),
          "run",
          "--isolation",
          "chroot",
          "--network",
          "host",
          "--user",
          `${NONROOT}:${NONROOT}`,
          "-v",
          `${join(data, "sim")}:/data/sim:ro`,
          "-v",
          `${out}:/out`,
          ctr,
          "--",
          "/usr/local/bin/otpqr",
          "--account",
          "image-signer",
          "--server",
          `127.0.0.1:${started.port}`,
          "--format",
          "svg",
          "--out",
          `/out/${file}`,
          "--data-dir",
          "/data",
          "--state-dir",
          "/out/state",
        ],
        { encoding: "utf8", timeout: 120_000 },
      );
    const r = run("image-signer.svg");
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stdout,
      /^otpqr: wrote the QR code \(SVG\) of OTP account image-signer to \/out\/image-signer\.svg \(mode 0600\)\./,
    );
    assert.match(r.stdout, /shred -n 3 -z -u \/out\/image-signer\.svg/);
    const svg = join(out, "image-signer.svg");
    const st = statSync(svg);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, NONROOT);
    const png = spawnSync("rsvg-convert", ["-w", "400", "-b", "white", svg]);
    const z = spawnSync("zbarimg", ["--nodbus", "-q", "--raw", "-"], { input: png.stdout });
    assert.equal(z.status, 0, String(z.stderr));
    const uri = z.stdout.toString("utf8").trim();
    assert.match(
      uri,
      /^otpauth:\/\/totp\/ACME%20Trust:image-signer\?issuer=ACME%20Trust&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30$/,
    );
    const totp = URI.parse(uri) as TOTP;
    assert.ok(!(r.stdout + r.stderr).includes(totp.secret.base32), "no secret on the terminal");
    const admin = ["--admin", `127.0.0.1:${started.adminPort}`, "--data-dir", data];
    const code = totp.generate();
    assert.equal(keyward("otp", "verify", "--account", "image-signer", "--code", code, ...admin).status, 0);
    const again = keyward("otp", "verify", "--account", "image-signer", "--code", code, "--json", ...admin);
    assert.equal(again.status, 1);
    assert.equal(JSON.parse(again.stdout).error.code, "ERR_OTP_REPLAYED");
    const second = run("again.svg");
    assert.equal(second.status, 1);
    assert.match(second.stderr, /ERR_OTP_ENROLLMENT_USED/);
    assert.ok(!existsSync(join(out, "again.svg")));
  });
});
