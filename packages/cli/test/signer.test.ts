/**
 * `keyward signer …` end to end, as a user runs it: keys made in the IoT gateway enclave under the
 * simulated launcher, bundles verified against `keyward enclave measure`'s MRENCLAVE, readings
 * verified by Keyward and by openssl, and the seed's attacks: a swapped public key and a
 * corrupted one.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const manifest = fileURLToPath(new URL("../../../examples/iot-gateway/app.toml", import.meta.url));
const data = mkdtempSync(join(tmpdir(), "keyward-cli-signer-"));
after(() => rmSync(data, { recursive: true, force: true }));
const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, KEYWARD_DATA_DIR: data },
  });
const errorCode = (r: { stdout: string }) => JSON.parse(r.stdout).error.code as string;

describe("keyward signer", () => {
  const key = join(data, "gateway-key");
  const reading = join(data, "reading.json");
  const policy = join(data, "policy.json");
  writeFileSync(reading, '{"sensor":"t1","celsius":21.5}\n');

  it("keygen and sign in the enclave; verify-bundle against the measured MRENCLAVE; verify; openssl agrees", () => {
    assert.equal(keyward("sim", "init").status, 0);
    const gen = keyward("signer", "keygen", "--out", key, "--manifest", manifest, "--json");
    assert.equal(gen.status, 0, gen.stderr);
    const keyId = JSON.parse(gen.stdout).keyId;
    const m = JSON.parse(keyward("enclave", "measure", "--manifest", manifest, "--json").stdout);
    writeFileSync(
      policy,
      JSON.stringify({ id: "gateway", platforms: ["simulated"], mrEnclave: [m.mrEnclave] }),
    );
    const vb = keyward(
      "signer",
      "verify-bundle",
      join(key, "bundle.json"),
      "--policy",
      policy,
      "--trust-sim",
      "--json",
    );
    assert.equal(vb.status, 0, vb.stderr);
    assert.equal(JSON.parse(vb.stdout).keyId, keyId);
    assert.equal(JSON.parse(vb.stdout).mrEnclave, m.mrEnclave);
    for (const format of ["cose", "der"]) {
      assert.equal(
        keyward("signer", "sign", "--key", key, "--in", reading, "--format", format, "--manifest", manifest)
          .status,
        0,
      );
    }
    const sig = `${reading}.sig`;
    for (const s of [`${reading}.cose`, sig]) {
      const v = keyward(
        "signer",
        "verify",
        "--bundle",
        join(key, "bundle.json"),
        "--in",
        reading,
        "--sig",
        s,
        "--policy",
        policy,
        "--trust-sim",
        "--json",
      );
      assert.equal(v.status, 0, v.stdout + v.stderr);
      assert.equal(JSON.parse(v.stdout).verified, true);
    }
    assert.match(
      execFileSync(
        "openssl",
        ["dgst", "-sha256", "-verify", join(key, "public.pem"), "-signature", sig, reading],
        { encoding: "utf8" },
      ),
      /Verified OK/,
    );
  });

  it("checks the key's enclave against the measurement rebuilt from the manifest, and against a SIGSTRUCT", () => {
    const ok = keyward(
      "signer",
      "verify-bundle",
      join(key, "bundle.json"),
      "--policy",
      policy,
      "--trust-sim",
      "--reference-manifest",
      manifest,
      "--json",
    );
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const sigstruct = fileURLToPath(
      new URL("../../attest/test/vectors/sigstruct/auditee-hashmachine.sig", import.meta.url),
    );
    const other = keyward(
      "signer",
      "verify-bundle",
      join(key, "bundle.json"),
      "--policy",
      policy,
      "--trust-sim",
      "--sigstruct",
      sigstruct,
      "--json",
    );
    assert.equal(other.status, 1);
    assert.equal(errorCode(other), "ERR_MEASUREMENT_MISMATCH");
    assert.deepEqual(JSON.parse(other.stdout).mismatched, ["mrEnclave", "mrSigner", "isvProdId"]);
  });

  it("refuses the simulated platform unless trusted explicitly, and an enclave the policy does not name", () => {
    const untrusted = keyward(
      "signer",
      "verify-bundle",
      join(key, "bundle.json"),
      "--policy",
      policy,
      "--json",
    );
    assert.equal(untrusted.status, 1);
    assert.equal(errorCode(untrusted), "ERR_X509_UNTRUSTED_ROOT");
    const otherPolicy = join(data, "other-policy.json");
    writeFileSync(
      otherPolicy,
      JSON.stringify({ id: "other", platforms: ["simulated"], mrEnclave: ["00".repeat(32)] }),
    );
    const r = keyward(
      "signer",
      "verify-bundle",
      join(key, "bundle.json"),
      "--policy",
      otherPolicy,
      "--trust-sim",
      "--json",
    );
    assert.equal(r.status, 1);
    assert.equal(errorCode(r), "ERR_POLICY_REJECTED");
    const byDefault = keyward(
      "signer",
      "verify-bundle",
      join(key, "bundle.json"),
      "--policy",
      join(data, "none.json"),
    );
    assert.equal(byDefault.status, 2);
  });

  it("swap: an attacker's public key in the bundle is refused (ERR_SIGNER_BINDING_MISMATCH), and its readings never verify", () => {
    const attacker = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const bundle = JSON.parse(readFileSync(join(key, "bundle.json"), "utf8"));
    const spki = attacker.publicKey.export({ format: "der", type: "spki" });
    bundle.publicKey = spki.toString("base64");
    delete bundle.keyId;
    const swapped = join(data, "swapped.json");
    writeFileSync(swapped, JSON.stringify(bundle));
    const vb = keyward("signer", "verify-bundle", swapped, "--policy", policy, "--trust-sim", "--json");
    assert.equal(vb.status, 1);
    assert.equal(errorCode(vb), "ERR_SIGNER_BINDING_MISMATCH");
    const forged = join(data, "forged.json");
    writeFileSync(forged, '{"sensor":"t1","celsius":99}\n');
    const forgedSig = join(data, "forged.sig");
    writeFileSync(forgedSig, sign("sha256", readFileSync(forged), attacker.privateKey));
    for (const b of [swapped, join(key, "bundle.json")]) {
      const v = keyward(
        "signer",
        "verify",
        "--bundle",
        b,
        "--in",
        forged,
        "--sig",
        forgedSig,
        "--policy",
        policy,
        "--trust-sim",
        "--json",
      );
      assert.equal(v.status, 1);
      assert.match(errorCode(v), /^ERR_SIGNER_(BINDING_MISMATCH|SIGNATURE_INVALID)$/);
    }
  });

  it("corruption: a corrupted key or evidence is refused with its code; the authentic bundle still verifies authentic readings", () => {
    const bundle = JSON.parse(readFileSync(join(key, "bundle.json"), "utf8"));
    const spki = Buffer.from(bundle.publicKey, "base64");
    spki[spki.length - 3] = (spki[spki.length - 3] ?? 0) ^ 0x40;
    const badKey = join(data, "bad-key.json");
    writeFileSync(
      badKey,
      JSON.stringify({ ...bundle, publicKey: spki.toString("base64"), keyId: undefined }),
    );
    const k = keyward("signer", "verify-bundle", badKey, "--policy", policy, "--trust-sim", "--json");
    assert.equal(k.status, 1);
    assert.match(errorCode(k), /^ERR_SIGNER_(KEY_INVALID|BINDING_MISMATCH)$/);
    const quote = Buffer.from(bundle.evidence.quote, "base64");
    quote[100] = (quote[100] ?? 0) ^ 1; // inside the report body: the quote's signature no longer verifies
    const badQuote = join(data, "bad-quote.json");
    writeFileSync(
      badQuote,
      JSON.stringify({ ...bundle, evidence: { ...bundle.evidence, quote: quote.toString("base64") } }),
    );
    const q = keyward("signer", "verify-bundle", badQuote, "--policy", policy, "--trust-sim", "--json");
    assert.equal(q.status, 1);
    assert.match(errorCode(q), /^ERR_DCAP_/);
    const truncated = join(data, "truncated.json");
    writeFileSync(truncated, readFileSync(join(key, "bundle.json"), "utf8").slice(0, 200));
    assert.equal(
      errorCode(keyward("signer", "verify-bundle", truncated, "--policy", policy, "--trust-sim", "--json")),
      "ERR_SIGNER_BUNDLE_INVALID",
    );
    const authentic = keyward(
      "signer",
      "verify",
      "--bundle",
      join(key, "bundle.json"),
      "--in",
      reading,
      "--sig",
      `${reading}.cose`,
      "--policy",
      policy,
      "--trust-sim",
    );
    assert.equal(authentic.status, 0, authentic.stderr);
  });

  it("rotate: a new generation; the old bundle still verifies old signatures; sign without an enclave is refused", () => {
    const next = join(data, "gateway-key-2");
    const r = keyward("signer", "rotate", "--key", key, "--out", next, "--manifest", manifest, "--json");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).generation, 2);
    const old = keyward(
      "signer",
      "verify",
      "--bundle",
      join(key, "bundle.json"),
      "--in",
      reading,
      "--sig",
      `${reading}.sig`,
      "--policy",
      policy,
      "--trust-sim",
    );
    assert.equal(old.status, 0, old.stderr);
    const outside = keyward("signer", "sign", "--key", key, "--in", reading, "--json");
    assert.equal(outside.status, 1);
    assert.equal(errorCode(outside), "ERR_ATTESTER_UNAVAILABLE");
    // The refusal says how to run it: inside the enclave app, or with --manifest.
    assert.match(JSON.parse(outside.stdout).error.message, /--manifest/);
  });

  it("demo signing: the five steps and both attacks, every verdict as expected (--json)", () => {
    const r = keyward("demo", "signing", "--json");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, true);
    const texts = out.steps
      .filter((s: { ok?: boolean }) => s.ok === true)
      .map((s: { text: string }) => s.text);
    for (const want of [
      /^1 keygen/,
      /^2 bundle uploaded/,
      /^3 readings signed/,
      /^4-5 readings/,
      /ERR_SIGNER_BINDING_MISMATCH/,
      /corrupted/,
    ])
      assert.ok(
        texts.some((t: string) => want.test(t)),
        String(want),
      );
    assert.equal(keyward("demo", "nonsense").status, 2);
  });
});
