/**
 * `keyward signer sign-image` against a real registry: Debian's docker-registry on a free loopback
 * port (started here, stopped by pid), an image pushed to it by skopeo, the image signed in the
 * gateway enclave and its signature attached as cosign does; then the signature fetched back raw
 * by skopeo, its payload checked to name the image's repository and manifest digest, and the
 * signature verified by `openssl dgst -sha256 -verify` and, as a sigstore bundle with the attested
 * public key, by @sigstore/verify.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkCosignPayload, parseImageReference } from "@keyward/attest/signer";
import { bundleFromJSON } from "@sigstore/bundle";
import { PublicKeyDetails, TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const manifest = fileURLToPath(new URL("../../../examples/iot-gateway/app.toml", import.meta.url));
const home = mkdtempSync(join(tmpdir(), "keyward-sign-image-"));
const data = join(home, "data");
const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, KEYWARD_DATA_DIR: data },
  });
const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
const skopeo = (...args: string[]) => execFileSync("skopeo", args, { encoding: "utf8" });

let registry: ChildProcess | undefined;
let port = 0;

// A registry on 127.0.0.1:0; its log line "listening on 127.0.0.1:PORT" says which port it took.
async function startRegistry(): Promise<void> {
  const config = join(home, "registry.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${join(home, "registry")}\nhttp:\n  addr: 127.0.0.1:0\n  secret: not-shared-test-secret\n`,
  );
  registry = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  port = await new Promise<number>((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`registry did not start: ${log}`)), 20_000);
    registry?.stderr?.setEncoding("utf8").on("data", (d: string) => {
      log += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    registry?.once("exit", (code) => reject(new Error(`registry exited (${code}): ${log}`)));
  });
}

// A one-layer OCI image layout made here (a layer tar, its config, a manifest), pushed by skopeo.
function pushTestImage(): string {
  const layout = join(home, "layout");
  const blobs = join(layout, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  mkdirSync(join(home, "rootfs"));
  writeFileSync(join(home, "rootfs", "hello.txt"), "hello from an image signed in an enclave\n");
  execFileSync("tar", ["-cf", join(home, "layer.tar"), "-C", join(home, "rootfs"), "hello.txt"]);
  const put = (bytes: Uint8Array | string) => {
    const h = sha(bytes);
    writeFileSync(join(blobs, h), bytes);
    return { digest: `sha256:${h}`, size: Buffer.byteLength(bytes) };
  };
  const layer = put(readFileSync(join(home, "layer.tar")));
  const config = put(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [layer.digest] },
      config: {},
    }),
  );
  const m = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
    }),
  );
  writeFileSync(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...m,
          annotations: { "org.opencontainers.image.ref.name": "latest" },
        },
      ],
    }),
  );
  skopeo(
    "copy",
    "--dest-tls-verify=false",
    `oci:${layout}:latest`,
    `docker://127.0.0.1:${port}/demo/app:latest`,
  );
  const raw = skopeo("inspect", "--raw", "--tls-verify=false", `docker://127.0.0.1:${port}/demo/app:latest`);
  return `sha256:${sha(raw)}`;
}

describe("keyward signer sign-image (docker-registry, skopeo, openssl, @sigstore/verify)", () => {
  let digest = "";
  const key = join(home, "image-key");
  before(async () => {
    await startRegistry();
    digest = pushTestImage();
    assert.equal(keyward("sim", "init").status, 0);
    const gen = keyward(
      "signer",
      "keygen",
      "--out",
      key,
      "--purpose",
      "image-signing",
      "--manifest",
      manifest,
    );
    assert.equal(gen.status, 0, gen.stderr);
  });
  after(() => {
    if (registry?.pid !== undefined) process.kill(registry.pid);
    rmSync(home, { recursive: true, force: true });
  });

  it("attaches a cosign signature that skopeo fetches back and openssl and @sigstore/verify verify", () => {
    const image = `127.0.0.1:${port}/demo/app@${digest}`;
    const r = keyward(
      "signer",
      "sign-image",
      "--key",
      key,
      "--image",
      image,
      "--manifest",
      manifest,
      "--plain-http",
      "--json",
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    const tag = `sha256-${digest.slice(7)}.sig`;
    assert.equal(out.signature, `127.0.0.1:${port}/demo/app:${tag}`);

    // Fetched back by skopeo, raw: the signature manifest and its payload blob.
    const sigRef = `docker://127.0.0.1:${port}/demo/app:${tag}`;
    const sigManifest = JSON.parse(skopeo("inspect", "--raw", "--tls-verify=false", sigRef));
    assert.equal(sigManifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
    const [layer] = sigManifest.layers;
    assert.equal(layer.mediaType, "application/vnd.dev.cosign.simplesigning.v1+json");
    const signature = Buffer.from(layer.annotations["dev.cosignproject.cosign/signature"], "base64");
    const dir = join(home, "fetched");
    skopeo("copy", "--src-tls-verify=false", sigRef, `dir:${dir}`);
    const payload = readFileSync(join(dir, layer.digest.slice(7)));
    assert.equal(`sha256:${sha(payload)}`, layer.digest);
    // The payload names the image's manifest digest and repository.
    checkCosignPayload(new Uint8Array(payload), parseImageReference(image));
    const doc = JSON.parse(payload.toString("utf8"));
    assert.equal(doc.critical.image["docker-manifest-digest"], digest);
    assert.equal(doc.critical.identity["docker-reference"], `127.0.0.1:${port}/demo/app`);
    assert.equal(doc.critical.type, "cosign container image signature");

    // openssl, under the attested key's PEM.
    writeFileSync(join(home, "payload.json"), payload);
    writeFileSync(join(home, "payload.sig"), signature);
    assert.match(
      execFileSync(
        "openssl",
        [
          "dgst",
          "-sha256",
          "-verify",
          join(key, "public.pem"),
          "-signature",
          join(home, "payload.sig"),
          join(home, "payload.json"),
        ],
        { encoding: "utf8" },
      ),
      /Verified OK/,
    );

    // @sigstore/verify: a message-signature bundle with the attested public key as its key hint.
    const bundleJson = JSON.parse(readFileSync(join(key, "bundle.json"), "utf8"));
    const sigstoreBundle = bundleFromJSON({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      verificationMaterial: {
        publicKey: { hint: bundleJson.keyId },
        tlogEntries: [],
        timestampVerificationData: { rfc3161Timestamps: [] },
      },
      messageSignature: {
        messageDigest: {
          algorithm: "SHA2_256",
          digest: createHash("sha256").update(payload).digest("base64"),
        },
        signature: signature.toString("base64"),
      },
    });
    const trust = toTrustMaterial(
      TrustedRoot.fromJSON({
        mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        tlogs: [],
        certificateAuthorities: [],
        ctlogs: [],
        timestampAuthorities: [],
      }),
      {
        [bundleJson.keyId]: {
          rawBytes: Buffer.from(bundleJson.publicKey, "base64"),
          keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
          validFor: { start: new Date(0) },
        },
      },
    );
    const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    const signer = verifier.verify(toSignedEntity(sigstoreBundle, payload));
    assert.ok(signer.key !== undefined);
    // Another payload (another digest) does not verify under the same signature.
    const other = Buffer.from(payload.toString("utf8").replace(digest.slice(7, 15), "00000000"));
    assert.throws(() => verifier.verify(toSignedEntity(sigstoreBundle, other)));
  });

  it("refuses an image the registry does not hold, and a reference that is not by digest", () => {
    const missing = keyward(
      "signer",
      "sign-image",
      "--key",
      key,
      "--image",
      `127.0.0.1:${port}/demo/app@sha256:${"0".repeat(64)}`,
      "--manifest",
      manifest,
      "--plain-http",
      "--json",
    );
    assert.equal(missing.status, 1);
    assert.equal(JSON.parse(missing.stdout).error.code, "ERR_SIGNER_REGISTRY_FAILED");
    const byTag = keyward(
      "signer",
      "sign-image",
      "--key",
      key,
      "--image",
      `127.0.0.1:${port}/demo/app:latest`,
      "--manifest",
      manifest,
      "--json",
    );
    assert.equal(byTag.status, 1);
    assert.equal(JSON.parse(byTag.stdout).error.code, "ERR_INPUT_INVALID");
  });
});
