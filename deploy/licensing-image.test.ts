/**
 * The licensing images, built with buildah by deploy/build_image.sh (local stand-ins for the public
 * bases): `licensing` runs `keyward licensing serve` with the manifests' ports; inside it, as its
 * user, `keyward demo licensing` signs up, logs in, launches the embedded licensed app (the argon2
 * addon and the enclave app both from the single executable) and logs out; `licensed-app` holds
 * the measured app at /app and measures to the same MRENCLAVE as the sources (what a licensing
 * server pins with --licensing-enclave-mrenclave). Own buildah storage, removed afterwards.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { BuildahStorage } from "./buildah-storage.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NONROOT = 65532;
let storage: BuildahStorage | undefined;
const store = (): BuildahStorage => {
  if (storage === undefined) throw new Error("the image was not built");
  return storage;
};
const buildah = (...args: string[]): string => store().buildah(...args);
const storageArgs = (): string[] => store().args();

describe("the licensing images (buildah)", { timeout: 1_800_000 }, () => {
  let built = "";
  before(() => {
    storage = new BuildahStorage("keyward-licensing-image-test-");
    built = storage.build("licensing", "licensed-app");
  });
  after(() => {
    storage?.remove();
  });

  it("tags both with the version and reports their sizes", () => {
    assert.match(built, /^localhost\/keyward\/licensing:\d+\.\d+\.\d+ \d+(\.\d+)? [kMG]B$/m);
    assert.match(built, /^localhost\/keyward\/licensed-app:\d+\.\d+\.\d+ \d+(\.\d+)? [kMG]B$/m);
  });

  it("runs licensing serve by default, as 65532, on the manifests' ports, and its demo in the image", () => {
    const { config } = JSON.parse(
      buildah("inspect", "--type", "image", "localhost/keyward/licensing:latest"),
    ).OCIv1;
    assert.deepEqual(config.Entrypoint, ["/usr/local/bin/keyward"]);
    assert.deepEqual(config.Cmd, [
      "licensing",
      "serve",
      "--listen=0.0.0.0:8443",
      "--ops-listen=0.0.0.0:9091",
    ]);
    assert.equal(config.User, `${NONROOT}:${NONROOT}`);
    assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ["8443/tcp", "9091/tcp"]);
    const ctr = buildah("from", "--pull=false", "localhost/keyward/licensing:latest");
    const rootfs = buildah("mount", ctr);
    for (const absent of ["bin/sh", "usr/bin/node", "usr/bin/apt"])
      assert.ok(!existsSync(join(rootfs, absent)), absent);
    const data = mkdtempSync(join(tmpdir(), "keyward-licensing-image-data-"));
    chownSync(data, NONROOT, NONROOT);
    try {
      const r = spawnSync(
        "buildah",
        [
          ...storageArgs(),
          "run",
          "--isolation",
          "chroot",
          "--user",
          `${NONROOT}:${NONROOT}`,
          "-v",
          `${data}:/var/lib/keyward`,
          "-v",
          `${data}:/tmp`,
          ctr,
          "--",
          "/usr/local/bin/keyward",
          "demo",
          "licensing",
        ],
        { encoding: "utf8", timeout: 180_000 },
      );
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /ok {3}launch: enclave /);
      assert.match(r.stdout, /all verdicts as expected/);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it("holds the licensed app at /app, measuring to the sources' MRENCLAVE", () => {
    const { config } = JSON.parse(
      buildah("inspect", "--type", "image", "localhost/keyward/licensed-app:latest"),
    ).OCIv1;
    assert.deepEqual(config.Entrypoint, [
      "/usr/local/bin/keyward",
      "enclave",
      "run",
      "--manifest",
      "/app/app.toml",
      "--",
    ]);
    const ctr = buildah("from", "--pull=false", "localhost/keyward/licensed-app:latest");
    const r = spawnSync(
      "buildah",
      [
        ...storageArgs(),
        "run",
        "--isolation",
        "chroot",
        ctr,
        "--",
        "/usr/local/bin/keyward",
        "enclave",
        "measure",
        "--manifest",
        "/app/app.toml",
        "--json",
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const expected = Buffer.from(
      measure(loadManifest(join(ROOT, "examples/licensed-app/app.toml"))).mrEnclave,
    ).toString("hex");
    assert.equal(JSON.parse(r.stdout).mrEnclave, expected);
  });
});
