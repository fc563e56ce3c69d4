/**
 * AK trust without trusting whoever hands over the AK, end to end against a manufactured swtpm:
 * EK certificate read from NV and validated to the manufacturer root; MakeCredential to the
 * certified EK key for the AK's Name; the TPM activates it; only then are the AK's quotes trusted.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  challengeAk,
  completeAkChallenge,
  makeCredential,
  parsePcrList,
  verifyEkCertificate,
  verifyTpmQuote,
} from "@keyward/attest/tpm";
import { parsePemCertificates } from "@keyward/attest/x509";
import {
  akEccTemplate,
  ekRsaTemplate,
  provisionSwtpm,
  startSwtpm,
  TPM_RH,
  TpmClient,
} from "@keyward/platform/tpm";

const work = mkdtempSync(join(tmpdir(), "keyward-ak-trust-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("trusting an AK through its certified EK", () => {
  it("reads the EK certificate, validates it, and activates a credential for the AK", async () => {
    const made = provisionSwtpm(join(work, "state"), join(work, "ca"));
    let certifiedEk: ReturnType<typeof verifyEkCertificate> | undefined;
    const tpm = await startSwtpm({ stateDir: made.stateDir });
    const client = TpmClient.open(tpm.uri);
    try {
      await client.startup();
      // The server side: hands over its EK certificate and its AK.
      const ekCert = await client.nvRead(0x01c00002);
      const ak = await client.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate());
      // The verifier: the EK certificate chains to the manufacturer root it configured ...
      const ek = verifyEkCertificate(ekCert, {
        roots: parsePemCertificates(made.rootCaPem),
        intermediates: parsePemCertificates(made.issuerCaPem),
        at: new Date(),
      });
      // ... it checks the AK's attributes (ActivateCredential alone would accept any key) and
      // challenges the TPM that holds that EK to prove it holds this AK.
      const challenge = challengeAk(ek, ak.public, new Uint8Array(randomBytes(32)));
      const answer = await client.activateCredential(
        ak.handle,
        0x81010001,
        challenge.credential.credentialBlob,
        challenge.credential.encryptedSecret,
      );
      certifiedEk = ek;
      const akPub = completeAkChallenge(challenge, answer);
      assert.deepEqual(akPub.name, ak.name);
      // The same through the ECC P-384 EK (high-range template: SHA-384, AES-256) and its
      // certificate in NV 0x01c00016.
      const ek384 = verifyEkCertificate(await client.nvRead(0x01c00016), {
        roots: parsePemCertificates(made.rootCaPem),
        intermediates: parsePemCertificates(made.issuerCaPem),
        at: new Date(),
      });
      assert.equal(ek384.key.asymmetricKeyDetails?.namedCurve, "secp384r1");
      const c384 = challengeAk(ek384, ak.public, new Uint8Array(randomBytes(32)));
      const a384 = await client.activateCredential(
        ak.handle,
        0x81010016,
        c384.credential.credentialBlob,
        c384.credential.encryptedSecret,
        "password",
      );
      completeAkChallenge(c384, a384);
      // A wrong answer is refused.
      assert.throws(() => completeAkChallenge(c384, new Uint8Array(32)), { code: "ERR_TPM_AK_UNTRUSTED" });
      // Now the AK is trusted: its quotes verify.
      const nonce = new Uint8Array(randomBytes(32));
      const selection = parsePcrList("sha256:16");
      const q = await client.quote(ak.handle, nonce, selection);
      const pcrs = await client.pcrRead(selection);
      verifyTpmQuote({
        ak: akPub,
        quote: q.attest,
        signature: q.signature,
        extraData: nonce,
        pcrSelection: selection,
        pcrValues: pcrs,
      });
      await client.flushContext(ak.handle);
    } finally {
      client.close();
      await tpm.stop();
    }
    // A credential made for the certified EK is useless to another TPM: its EK cannot recover the seed.
    const stranger = await startSwtpm();
    const other = TpmClient.open(stranger.uri);
    try {
      await other.startup();
      const otherEk = await other.createPrimary(TPM_RH.ENDORSEMENT, ekRsaTemplate());
      const otherAk = await other.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate());
      assert.ok(certifiedEk);
      // Even for this TPM's own AK Name, a credential sealed to the certified EK cannot be opened here.
      const forOther = makeCredential(
        { type: certifiedEk.type, key: certifiedEk.key, nameAlg: "sha256", symmetricBits: 128 },
        new Uint8Array(32).fill(1),
        otherAk.name,
      );
      await assert.rejects(
        other.activateCredential(
          otherAk.handle,
          otherEk.handle,
          forOther.credentialBlob,
          forOther.encryptedSecret,
        ),
        {
          code: "ERR_TPM_RESPONSE",
        },
      );
    } finally {
      other.close();
      await stranger.stop();
    }
  });
});
