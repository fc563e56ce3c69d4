import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePemCertificates } from "../../x509/certificate.ts";
import { verifyEkCertificate } from "./ek-certificate.ts";
import { parseTpm2bPublic } from "./public-area.ts";

const DIR = fileURLToPath(new URL("../../../test/vectors/tpm/tpm-identity/", import.meta.url));
const read = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));
const pem = (f: string) => parsePemCertificates(readFileSync(join(DIR, f), "utf8"));

describe("EK certificates (swtpm_localca)", () => {
  const root = pem("ca-root.pem");
  const intermediate = pem("ca-intermediate.pem");
  const der = read("ek-rsa-cert.der");
  const cert = parsePemCertificates(readFileSync(join(DIR, "ek-rsa-cert.pem"), "utf8"))[0];

  it("chains the RSA EK certificate to the manufacturer root, and certifies the EK the TPM has", () => {
    assert.ok(cert);
    const ek = verifyEkCertificate(der, { roots: root, intermediates: intermediate, at: cert.notBefore });
    assert.equal(ek.type, "rsa");
    const tpmEk = parseTpm2bPublic(read("ek-rsa.pub"));
    assert.deepEqual(ek.key.export({ format: "jwk" }), tpmEk.key.export({ format: "jwk" }));
  });

  it("refuses it under another root, or out of its validity", () => {
    assert.ok(cert);
    const intel = parsePemCertificates(
      readFileSync(join(DIR, "..", "..", "dcap", "intel-sgx-root-ca.pem"), "utf8"),
    );
    assert.throws(
      () => verifyEkCertificate(der, { roots: intel, intermediates: intermediate, at: cert.notBefore }),
      {
        code: "ERR_X509_UNTRUSTED_ROOT",
      },
    );
    assert.throws(
      () =>
        verifyEkCertificate(der, {
          roots: root,
          intermediates: intermediate,
          at: new Date(cert.notBefore.getTime() - 86_400_000),
        }),
      {
        code: "ERR_X509_EXPIRED",
      },
    );
  });
});
