/**
 * Encrypting to an attested enclave: keys made in the gateway enclave (P-256 for ECDH-ES+A256KW,
 * RSA-3072 for RSA-OAEP-256) and bound by Open Enclave custom claims; `keyward signer encrypt`
 * verifies the bundle before it encrypts, `keyward signer decrypt` opens the JWE inside the
 * enclave only. An independent JOSE implementation (Python's jwcrypto) encrypts to the attested
 * key too, and the enclave opens that. A swapped key is never encrypted to.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const manifest = fileURLToPath(new URL("../../../examples/iot-gateway/app.toml", import.meta.url));
const data = mkdtempSync(join(tmpdir(), "keyward-cli-jwe-"));
after(() => rmSync(data, { recursive: true, force: true }));
const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, KEYWARD_DATA_DIR: data },
  });
const codeOf = (r: { stdout: string }) => JSON.parse(r.stdout).error.code as string;

// jwcrypto encrypts to the bundle's public key (SPKI), as a client in another language would.
const JWCRYPTO = `
import base64, json, sys
from jwcrypto import jwe, jwk
b = json.load(open(sys.argv[1]))
der = base64.b64decode(b["publicKey"])
pem = b"-----BEGIN PUBLIC KEY-----\\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\\n"
key = jwk.JWK.from_pem(pem)
t = jwe.JWE(open(sys.argv[2], "rb").read(), json.dumps({"alg": b["algorithm"], "enc": "A256GCM", "kid": b["keyId"]}))
t.add_recipient(key)
print(t.serialize(compact=True))
`;

describe("keyward signer encrypt / decrypt", () => {
  const policy = join(data, "policy.json");

  for (const algorithm of ["ECDH-ES+A256KW", "RSA-OAEP-256"]) {
    it(`${algorithm}: a key bound by OE custom claims; the JWE opens in the enclave, from Keyward and from jwcrypto`, () => {
      if (!existsSync(join(data, "sim"))) assert.equal(keyward("sim", "init").status, 0);
      const m = JSON.parse(keyward("enclave", "measure", "--manifest", manifest, "--json").stdout);
      writeFileSync(
        policy,
        JSON.stringify({ id: "kms", platforms: ["simulated"], mrEnclave: [m.mrEnclave] }),
      );
      const key = join(data, `key-${algorithm}`);
      const gen = keyward(
        "signer",
        "keygen",
        "--out",
        key,
        "--algorithm",
        algorithm,
        "--evidence",
        "oe",
        "--purpose",
        "kms",
        "--manifest",
        manifest,
        "--json",
      );
      assert.equal(gen.status, 0, gen.stderr);
      const bundle = JSON.parse(readFileSync(join(key, "bundle.json"), "utf8"));
      assert.equal(bundle.evidence.format, "oe-custom-claims");
      assert.equal(bundle.algorithm, algorithm);
      const secret = join(data, `secret-${algorithm}.txt`);
      writeFileSync(secret, `the KMS root key for ${algorithm}\n`);
      const e = keyward(
        "signer",
        "encrypt",
        "--bundle",
        join(key, "bundle.json"),
        "--in",
        secret,
        "--policy",
        policy,
        "--trust-sim",
        "--json",
      );
      assert.equal(e.status, 0, e.stdout + e.stderr);
      const header = JSON.parse(
        Buffer.from(readFileSync(`${secret}.jwe`, "utf8").split(".")[0] ?? "", "base64url").toString(),
      );
      // ECDH-ES adds the ephemeral public key (RFC 7518 §4.6.1.1).
      assert.deepEqual(
        { alg: header.alg, enc: header.enc, kid: header.kid, epk: header.epk?.crv },
        {
          alg: algorithm,
          enc: "A256GCM",
          kid: bundle.keyId,
          epk: algorithm === "RSA-OAEP-256" ? undefined : "P-256",
        },
      );
      const out = join(data, `opened-${algorithm}.txt`);
      const d = keyward(
        "signer",
        "decrypt",
        "--key",
        key,
        "--in",
        `${secret}.jwe`,
        "--out",
        out,
        "--manifest",
        manifest,
        "--json",
      );
      assert.equal(d.status, 0, d.stdout + d.stderr);
      assert.equal(readFileSync(out, "utf8"), readFileSync(secret, "utf8"));
      // jwcrypto's JWE to the same attested key.
      const py = join(data, `py-${algorithm}.jwe`);
      writeFileSync(
        py,
        execFileSync("/usr/bin/python3", ["-c", JWCRYPTO, join(key, "bundle.json"), secret], {
          encoding: "utf8",
        }),
      );
      const out2 = join(data, `opened-py-${algorithm}.txt`);
      const d2 = keyward(
        "signer",
        "decrypt",
        "--key",
        key,
        "--in",
        py,
        "--out",
        out2,
        "--manifest",
        manifest,
      );
      assert.equal(d2.status, 0, d2.stderr);
      assert.equal(readFileSync(out2, "utf8"), readFileSync(secret, "utf8"));
      // A changed byte of the ciphertext: refused inside.
      const jwe = readFileSync(`${secret}.jwe`, "utf8").trim().split(".");
      const ct = Buffer.from(jwe[3] ?? "", "base64url");
      ct[0] = (ct[0] ?? 0) ^ 1;
      jwe[3] = ct.toString("base64url");
      writeFileSync(join(data, "tampered.jwe"), jwe.join("."));
      const t = keyward(
        "signer",
        "decrypt",
        "--key",
        key,
        "--in",
        join(data, "tampered.jwe"),
        "--out",
        join(data, `t-${algorithm}`),
        "--manifest",
        manifest,
        "--json",
      );
      assert.equal(t.status, 1);
      assert.equal(codeOf(t), "ERR_SIGNER_SIGNATURE_INVALID");
    });
  }

  it("never encrypts to a swapped key; a JWE for one key is refused by another; a signing key is not an encryption key", () => {
    const key = join(data, "key-ECDH-ES+A256KW");
    const bundle = JSON.parse(readFileSync(join(key, "bundle.json"), "utf8"));
    const attacker = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({
      format: "der",
      type: "spki",
    });
    const swapped = join(data, "swapped.json");
    writeFileSync(
      swapped,
      JSON.stringify({ ...bundle, publicKey: attacker.toString("base64"), keyId: undefined }),
    );
    const secret = join(data, "s.txt");
    writeFileSync(secret, "x");
    const e = keyward(
      "signer",
      "encrypt",
      "--bundle",
      swapped,
      "--in",
      secret,
      "--policy",
      policy,
      "--trust-sim",
      "--json",
    );
    assert.equal(e.status, 1);
    assert.equal(codeOf(e), "ERR_SIGNER_BINDING_MISMATCH");
    const other = keyward(
      "signer",
      "decrypt",
      "--key",
      join(data, "key-RSA-OAEP-256"),
      "--in",
      join(data, "secret-ECDH-ES+A256KW.txt.jwe"),
      "--out",
      join(data, "nope"),
      "--manifest",
      manifest,
      "--json",
    );
    assert.equal(other.status, 1);
    assert.equal(codeOf(other), "ERR_SIGNER_KEY_MISMATCH");
    const signing = join(data, "signing-key");
    assert.equal(keyward("signer", "keygen", "--out", signing, "--manifest", manifest).status, 0);
    const s = keyward(
      "signer",
      "encrypt",
      "--bundle",
      join(signing, "bundle.json"),
      "--in",
      secret,
      "--policy",
      policy,
      "--trust-sim",
      "--json",
    );
    assert.equal(s.status, 1);
    assert.equal(codeOf(s), "ERR_INPUT_INVALID");
    const sign = keyward("signer", "sign", "--key", key, "--in", secret, "--manifest", manifest, "--json");
    assert.equal(sign.status, 1);
    assert.equal(codeOf(sign), "ERR_INPUT_INVALID");
  });
});
