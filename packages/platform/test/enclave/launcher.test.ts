/**
 * The example enclave app under the simulated launcher, as real child processes: its quote
 * verifies with the simulation root trusted and carries `keyward enclave measure`'s claims; a
 * changed trusted file changes MRENCLAVE; another signer changes MRSIGNER only; sealed data stays
 * with its identity; SVN and load-time checks hold.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { toHex } from "@keyward/attest/bytes";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { parsePemCertificates } from "@keyward/attest/x509";
import { launchEnclave, loadManifest, measure } from "@keyward/platform/launcher";
import { initSimPlatform } from "@keyward/platform/sim";

const EXAMPLE = fileURLToPath(new URL("../../../../examples/hello-enclave/", import.meta.url));
// Copies live inside the repository so that the app resolves @keyward/platform from node_modules.
const work = mkdtempSync(join(fileURLToPath(new URL(".", import.meta.url)), ".tmp-"));
const data = mkdtempSync(join(tmpdir(), "keyward-launcher-"));
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});
const platform = initSimPlatform(join(data, "sim"), { now: new Date() });

function copyApp(name: string, edit?: (dir: string) => void): string {
  const dir = join(work, name);
  cpSync(EXAMPLE, dir, { recursive: true });
  edit?.(dir);
  return join(dir, "app.toml");
}

async function run(
  manifestPath: string,
  ...args: string[]
): Promise<{ status: number; stdout: string; stderr: string }> {
  const running = launchEnclave({ manifest: loadManifest(manifestPath), platform, args, output: "pipe" });
  let stdout = "";
  let stderr = "";
  running.child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  running.child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const status = await running.exited;
  return { status, stdout, stderr };
}

const appA = copyApp("a");
const appB = copyApp("b", (dir) =>
  writeFileSync(
    join(dir, "lib", "greeting.ts"),
    'export const GREETING = "hello from a modified enclave";\n',
  ),
);

describe("the simulated enclave launcher", () => {
  it("runs the example: its quote verifies with the sim root trusted, and its claims equal keyward enclave measure", async () => {
    const quotePath = join(work, "a.quote");
    const r = await run(appA, "quote", quotePath, "c0ffee");
    assert.equal(r.status, 0, r.stderr);
    const root = parsePemCertificates(platform.rootCertificatePem)[0];
    assert.ok(root);
    const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
    const v = verifier.verify(
      new Uint8Array(readFileSync(quotePath)),
      parseCollateralJson(platform.collateralJson("sgx")),
      new Date(),
    );
    const m = measure(loadManifest(appA));
    assert.equal(v.platform, "simulated");
    assert.ok(v.claims.tee === "sgx");
    if (v.claims.tee !== "sgx") return;
    assert.equal(toHex(v.claims.mrEnclave), toHex(m.mrEnclave));
    assert.equal(toHex(v.claims.mrSigner), toHex(m.mrSigner));
    assert.equal(v.claims.isvProdId, 1);
    assert.equal(v.claims.isvSvn, 1);
    assert.equal(v.claims.debug, false);
    assert.equal(toHex(v.claims.reportData).slice(0, 6), "c0ffee");
    const id = JSON.parse((await run(appA, "identity")).stdout);
    assert.equal(id.mrEnclave, toHex(m.mrEnclave));
  });

  it("changing one trusted file changes MRENCLAVE; another signer changes MRSIGNER and not MRENCLAVE", () => {
    const a = measure(loadManifest(appA));
    const b = measure(loadManifest(appB));
    assert.notEqual(toHex(a.mrEnclave), toHex(b.mrEnclave));
    assert.equal(toHex(a.mrSigner), toHex(b.mrSigner));
    const resigned = copyApp("c", (dir) => {
      const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 3072, publicExponent: 3 });
      writeFileSync(join(dir, "signer.pub.pem"), publicKey.export({ type: "spki", format: "pem" }));
    });
    const c = measure(loadManifest(resigned));
    assert.equal(toHex(c.mrEnclave), toHex(a.mrEnclave));
    assert.notEqual(toHex(c.mrSigner), toHex(a.mrSigner));
  });

  it("keeps sealed data with its identity: MRENCLAVE policy for one app only, MRSIGNER policy for the signer's apps", async () => {
    const secret = join(work, "secret.txt");
    writeFileSync(secret, "the enclave's secret");
    for (const policy of ["mrenclave", "mrsigner"] as const) {
      const blob = join(work, `sealed-${policy}.bin`);
      assert.equal((await run(appA, "seal", secret, blob, policy)).status, 0);
      const back = join(work, `back-${policy}.txt`);
      assert.equal((await run(appA, "unseal", blob, back)).status, 0);
      assert.equal(readFileSync(back, "utf8"), "the enclave's secret");
      const other = await run(appB, "unseal", blob, join(work, `other-${policy}.txt`));
      if (policy === "mrenclave") {
        assert.equal(other.status, 1);
        assert.equal(JSON.parse(other.stderr).error.code, "ERR_SEALED_BLOB_INVALID");
      } else {
        assert.equal(other.status, 0, other.stderr);
      }
    }
    const blob = readFileSync(join(work, "sealed-mrenclave.bin"));
    blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 1;
    writeFileSync(join(work, "tampered.bin"), blob);
    assert.equal(
      JSON.parse((await run(appA, "unseal", join(work, "tampered.bin"), join(work, "x"))).stderr).error.code,
      "ERR_SEALED_BLOB_INVALID",
    );
  });

  it("never derives a key for a higher SVN than the enclave's", async () => {
    const newer = copyApp("svn2", (dir) => {
      const t = join(dir, "app.toml");
      writeFileSync(t, readFileSync(t, "utf8").replace("isvsvn = 1", "isvsvn = 2"));
    });
    const secret = join(work, "svn.txt");
    writeFileSync(secret, "sealed by version 2");
    const blob = join(work, "svn2.bin");
    assert.equal((await run(newer, "seal", secret, blob, "mrsigner")).status, 0);
    const older = await run(appA, "unseal", blob, join(work, "svn-back.txt"));
    assert.equal(older.status, 1);
    assert.equal(JSON.parse(older.stderr).error.code, "ERR_SEAL_SVN_TOO_HIGH");
    // The other way round works: version 2 opens what version 1 sealed.
    const old = join(work, "svn1.bin");
    assert.equal((await run(appA, "seal", secret, old, "mrsigner")).status, 0);
    assert.equal((await run(newer, "unseal", old, join(work, "svn-up.txt"))).status, 0);
  });

  it("refuses a trusted file that changes between measurement and load", () => {
    const dir = join(work, "race");
    const manifestPath = copyApp("race");
    assert.throws(
      () =>
        launchEnclave({
          manifest: loadManifest(manifestPath),
          platform,
          afterMeasure: () =>
            writeFileSync(join(dir, "lib", "greeting.ts"), 'export const GREETING = "swapped";\n'),
        }),
      { code: "ERR_ENCLAVE_FILE_CHANGED" },
    );
  });

  it("lists every problem of a bad manifest", () => {
    const bad = join(work, "bad.toml");
    writeFileSync(
      bad,
      '[loader]\nentrypoint = "missing.ts"\nextra = 1\n[sgx]\ntrusted_files = ["../outside.ts"]\nisvsvn = -1\n',
    );
    assert.throws(
      () => loadManifest(bad),
      (e: unknown) => {
        const problems = (e as { detail?: { problems?: string[] } }).detail?.problems ?? [];
        return (e as { code?: string }).code === "ERR_MANIFEST_INVALID" && problems.length >= 4;
      },
    );
  });
});
