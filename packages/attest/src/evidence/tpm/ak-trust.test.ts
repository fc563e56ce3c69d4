import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseCertificate } from "../../x509/certificate.ts";
import { challengeAk, completeAkChallenge, credentialKeyOf, pinnedAk } from "./ak-trust.ts";
import { parseTpm2bPublic } from "./public-area.ts";

const DIR = fileURLToPath(new URL("../../../test/vectors/tpm/tpm-identity/", import.meta.url));
const read = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));
const secret = new Uint8Array(32).fill(9);

describe("AK trust: pinned Names and credential challenges", () => {
  it("trusts a pinned AK by its Name only", () => {
    const ak = pinnedAk(read("ak-ecc.pub"), [read("ak-rsa.name"), read("ak-ecc.name")]);
    assert.deepEqual(ak.name, read("ak-ecc.name"));
    assert.throws(() => pinnedAk(read("ak2-ecc.pub"), [read("ak-ecc.name")]), {
      code: "ERR_TPM_AK_UNTRUSTED",
    });
  });

  it("refuses to challenge (or pin) a key that is not a restricted signing key", () => {
    const pub = read("ak-ecc.pub").slice();
    pub[7] = 0x04; // attributes 0x00050072 -> 0x00040072: restricted cleared
    const ek = parseTpm2bPublic(read("ek-rsa.pub"));
    assert.throws(() => challengeAk(ek, pub, secret), { code: "ERR_TPM_AK_ATTRIBUTES" });
    const name = parseTpm2bPublic(pub).name;
    assert.throws(() => pinnedAk(pub, [name]), { code: "ERR_TPM_AK_ATTRIBUTES" });
  });

  it("derives MakeCredential parameters from EK certificates and EK public areas", () => {
    const rsaCert = parseCertificate(read("ek-rsa-cert.der"));
    const eccCert = parseCertificate(read("ek-ecc384-cert.der"));
    const fromCert = credentialKeyOf({ certificate: rsaCert, key: rsaCert.publicKey, type: "rsa" });
    assert.deepEqual([fromCert.nameAlg, fromCert.symmetricBits], ["sha256", 128]);
    const p384 = credentialKeyOf({ certificate: eccCert, key: eccCert.publicKey, type: "ecc" });
    assert.deepEqual([p384.nameAlg, p384.symmetricBits, p384.coordinateSize], ["sha384", 256, 48]);
    const fromPub = credentialKeyOf(parseTpm2bPublic(read("ek-ecc384.pub")));
    assert.deepEqual([fromPub.nameAlg, fromPub.symmetricBits, fromPub.coordinateSize], ["sha384", 256, 48]);
  });

  it("completes a challenge only with the secret", () => {
    const c = challengeAk(parseTpm2bPublic(read("ek-rsa.pub")), read("ak-ecc.pub"), secret);
    // credentialBlob = TPM2B(TPM2B(HMAC-SHA256) ‖ encrypted TPM2B(secret)); encryptedSecret = TPM2B(RSA-2048 OAEP).
    assert.equal(c.credential.credentialBlob.byteLength, 2 + 2 + 32 + 2 + 32);
    assert.equal(c.credential.encryptedSecret.byteLength, 2 + 256);
    assert.deepEqual(completeAkChallenge(c, secret.slice()).name, read("ak-ecc.name"));
    assert.throws(() => completeAkChallenge(c, secret.subarray(1)), { code: "ERR_TPM_AK_UNTRUSTED" });
    assert.throws(
      () => challengeAk(parseTpm2bPublic(read("ek-rsa.pub")), read("ak-ecc.pub"), secret.subarray(20)),
      {
        code: "ERR_INPUT_INVALID",
      },
    );
  });
});
