/**
 * Attested signing keys in the IoT gateway enclave app, under the simulated launcher (real child
 * processes): the bundle's evidence verifies and binds the key; the sealed key stays with its
 * identity (another MRENCLAVE, a lower SVN or another signer cannot unseal it); a debug enclave
 * and the simulated platform are refused by the default policy; rotation keeps old bundles
 * verifying old signatures; DER signatures verify with `openssl dgst -sha256 -verify`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { appraise, policyFromObject } from "@keyward/attest/appraisal";
import { toHex } from "@keyward/attest/bytes";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { type AttestedKey, parseKeyBundle, verifyKeyBundle, verifySignature } from "@keyward/attest/signer";
import { parsePemCertificates } from "@keyward/attest/x509";
import { launchEnclave, loadManifest, measure } from "@keyward/platform/launcher";
import { initSimPlatform } from "@keyward/platform/sim";

const EXAMPLE = fileURLToPath(new URL("../../../../examples/iot-gateway/", import.meta.url));
// Copies live inside the repository so that the app resolves @keyward/* from node_modules.
const work = mkdtempSync(join(fileURLToPath(new URL(".", import.meta.url)), ".tmp-"));
const data = mkdtempSync(join(tmpdir(), "keyward-signer-"));
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});
const platform = initSimPlatform(join(data, "sim"), { now: new Date() });
const collateralFile = join(data, "sim", "collateral-sgx.json");

function copyApp(name: string, edit?: (dir: string) => void): string {
  const dir = join(work, name);
  cpSync(EXAMPLE, dir, { recursive: true });
  edit?.(dir);
  return join(dir, "app.toml");
}
const setManifest = (dir: string, from: RegExp, to: string) => {
  const p = join(dir, "app.toml");
  writeFileSync(p, readFileSync(p, "utf8").replace(from, to));
};

async function gateway(
  manifest: string,
  ...args: string[]
): Promise<{ status: number; out: Record<string, unknown>; code?: string }> {
  const running = launchEnclave({ manifest: loadManifest(manifest), platform, args, output: "pipe" });
  let stdout = "";
  let stderr = "";
  running.child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  running.child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const status = await running.exited;
  if (status !== 0)
    return { status, out: {}, code: JSON.parse(stderr.trim().split("\n").at(-1) ?? "{}").error?.code };
  return { status, out: JSON.parse(stdout) };
}

const root = parsePemCertificates(platform.rootCertificatePem)[0];
assert.ok(root);
const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
const verifyBundleFile = (dir: string): Promise<AttestedKey> =>
  verifyKeyBundle(parseKeyBundle(readFileSync(join(dir, "bundle.json"), "utf8")), (quote, collateral) => {
    assert.ok(collateral !== undefined, "the bundle carries its collateral");
    return verifier.verify(quote, parseCollateralJson(collateral), new Date());
  });

const appA = copyApp("a");
const appOtherCode = copyApp("other-code", (dir) =>
  writeFileSync(join(dir, "lib", "extra.ts"), "export const CHANGED = true;\n"),
);
const appSvn2 = copyApp("svn2", (dir) => setManifest(dir, /isvsvn = 1/, "isvsvn = 2"));
// At the key's SVN, so that only the signer differs.
const appOtherSigner = copyApp("other-signer", (dir) => {
  setManifest(dir, /isvsvn = 1/, "isvsvn = 2");
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 3072, publicExponent: 3 });
  writeFileSync(join(dir, "signer.pub.pem"), publicKey.export({ type: "spki", format: "pem" }));
});
const appDebug = copyApp("debug", (dir) => setManifest(dir, /debug = false/, "debug = true"));

describe("attested signing keys in the gateway enclave", () => {
  const keyDir = join(work, "key-a");
  const reading = join(work, "reading.json");
  writeFileSync(reading, '{"sensor":"t1","celsius":21.5,"at":"2026-11-29T12:00:00Z"}');

  it("keygen: a sealed key (0600) and a bundle whose evidence verifies and binds the key, from this enclave", async () => {
    const r = await gateway(appA, "keygen", "--out", keyDir, "--collateral", collateralFile);
    assert.equal(r.status, 0);
    assert.equal(statSync(join(keyDir, "key.sealed")).mode & 0o777, 0o600);
    const attested = await verifyBundleFile(keyDir);
    assert.equal(toHex(attested.keyId), r.out.keyId);
    assert.equal(attested.generation, 1);
    const claims = attested.verified.claims;
    assert.ok(claims.tee === "sgx");
    const m = measure(loadManifest(appA));
    assert.equal(toHex(claims.mrEnclave), toHex(m.mrEnclave));
    assert.equal(claims.isvProdId, 7);
    // A directory that holds a key is never overwritten.
    const again = await gateway(appA, "keygen", "--out", keyDir);
    assert.equal(again.code, "ERR_IO");
  });

  it("sign: COSE_Sign1 and DER verify under the attested key; DER with openssl dgst -sha256 -verify", async () => {
    const attested = await verifyBundleFile(keyDir);
    const data = new Uint8Array(readFileSync(reading));
    for (const format of ["cose", "der", "raw"] as const) {
      const out = join(work, `reading.${format}`);
      assert.equal(
        (await gateway(appA, "sign", "--key", keyDir, "--in", reading, "--out", out, "--format", format))
          .status,
        0,
      );
      verifySignature(format, attested.key, attested.keyId, data, new Uint8Array(readFileSync(out)));
    }
    const ok = execFileSync(
      "openssl",
      [
        "dgst",
        "-sha256",
        "-verify",
        join(keyDir, "public.pem"),
        "-signature",
        join(work, "reading.der"),
        reading,
      ],
      { encoding: "utf8" },
    );
    assert.match(ok, /Verified OK/);
  });

  it("the sealed key does not open in another MRENCLAVE, nor (MRSIGNER policy) another signer's enclave or a lower SVN", async () => {
    const out = join(work, "x.cose");
    const sign = (app: string, dir: string) =>
      gateway(app, "sign", "--key", dir, "--in", reading, "--out", out);
    assert.equal((await sign(appOtherCode, keyDir)).code, "ERR_SEALED_BLOB_INVALID");
    // (MRENCLAVE policy derives from MRENCLAVE alone, as EGETKEY does: the same code re-signed by
    // another signer is the same enclave. The signer matters under the MRSIGNER policy, below.)
    // MRSIGNER policy: the signer's other enclave opens it; another signer does not; an older SVN does not.
    const signerKey = join(work, "key-mrsigner");
    assert.equal((await gateway(appSvn2, "keygen", "--out", signerKey, "--seal", "mrsigner")).status, 0);
    assert.equal((await sign(appSvn2, signerKey)).status, 0);
    assert.equal((await sign(appOtherSigner, signerKey)).code, "ERR_SEALED_BLOB_INVALID");
    assert.equal((await sign(appA, signerKey)).code, "ERR_SEAL_SVN_TOO_HIGH");
    // A changed byte of the sealed file.
    const corrupt = join(work, "key-corrupt");
    cpSync(keyDir, corrupt, { recursive: true });
    const blob = readFileSync(join(corrupt, "key.sealed"));
    blob[blob.length - 20] = (blob[blob.length - 20] ?? 0) ^ 1;
    writeFileSync(join(corrupt, "key.sealed"), blob);
    assert.equal((await sign(appA, corrupt)).code, "ERR_SEALED_BLOB_INVALID");
  });

  it("rotation: generation 2 with its own bundle; the old bundle still verifies old signatures, not new ones", async () => {
    const next = join(work, "key-a2");
    const r = await gateway(appA, "rotate", "--key", keyDir, "--out", next, "--collateral", collateralFile);
    assert.equal(r.status, 0);
    assert.equal(r.out.generation, 2);
    const [oldKey, newKey] = [await verifyBundleFile(keyDir), await verifyBundleFile(next)];
    assert.equal(newKey.generation, 2);
    assert.equal(newKey.purpose, oldKey.purpose);
    const data = new Uint8Array(readFileSync(reading));
    verifySignature(
      "der",
      oldKey.key,
      oldKey.keyId,
      data,
      new Uint8Array(readFileSync(join(work, "reading.der"))),
    );
    const fresh = join(work, "fresh.cose");
    assert.equal((await gateway(appA, "sign", "--key", next, "--in", reading, "--out", fresh)).status, 0);
    assert.throws(
      () => verifySignature("cose", oldKey.key, oldKey.keyId, data, new Uint8Array(readFileSync(fresh))),
      {
        code: "ERR_SIGNER_KEY_MISMATCH",
      },
    );
  });

  it("a debug enclave's key, and the simulated platform, are refused by the default policy", async () => {
    const debugKey = join(work, "key-debug");
    assert.equal(
      (await gateway(appDebug, "keygen", "--out", debugKey, "--collateral", collateralFile)).status,
      0,
    );
    const attested = await verifyBundleFile(debugKey);
    assert.equal(attested.verified.claims.debug, true);
    const strict = appraise(attested.verified, policyFromObject({ id: "default" }, "test"));
    assert.equal(strict.accepted, false);
    assert.deepEqual(strict.failed.map((f) => f.rule).sort(), ["debug", "platform"]);
    const simOk = appraise(
      attested.verified,
      policyFromObject({ id: "sim", platforms: ["simulated"] }, "test"),
    );
    assert.deepEqual(
      simOk.failed.map((f) => f.rule),
      ["debug"],
    );
    const release = appraise(
      (await verifyBundleFile(keyDir)).verified,
      policyFromObject({ id: "default" }, "test"),
    );
    assert.deepEqual(
      release.failed.map((f) => f.rule),
      ["platform"],
    );
  });
});
