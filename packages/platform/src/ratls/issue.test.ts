import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { toHex } from "@keyward/attest/bytes";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { extractRaTlsEvidence, verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parseCertificate, parsePemCertificates } from "@keyward/attest/x509";
import { initSimPlatform, simulatedPlatformAttester } from "../sim/index.ts";
import { buildCrl } from "../x509/builders.ts";
import { createRaTlsIdentity, issueRaTlsCertificate } from "./issue.ts";

const dir = mkdtempSync(join(tmpdir(), "keyward-ratls-issue-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
const attester = simulatedPlatformAttester(platform, {
  mrEnclave: new Uint8Array(32).fill(1),
  mrSigner: new Uint8Array(32).fill(2),
});
const root = parsePemCertificates(platform.rootCertificatePem)[0];
assert.ok(root);
const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
const collateral = parseCollateralJson(platform.collateralJson("sgx"));

describe("issuing RA-TLS certificates", () => {
  it("binds a fresh P-256 key in the TCG format; a P-384 key and the legacy extension on request", async () => {
    for (const curve of ["P-256", "P-384"] as const) {
      const c = await issueRaTlsCertificate({ attester, curve, legacyExtension: true });
      const cert = parseCertificate(c.certificateDer);
      const r = verifyRaTlsCertificate(cert, { verifier, collateral, at: new Date() });
      assert.equal(r.format, "tcg-dice");
      assert.equal(r.verified.platform, "simulated");
      const legacy = extractRaTlsEvidence({
        ...cert,
        extensions: cert.extensions.filter((e) => e.oid !== "2.23.133.5.4.9"),
      });
      assert.equal(legacy.format, "gramine-legacy");
      assert.equal(
        cert.publicKey.asymmetricKeyDetails?.namedCurve,
        curve === "P-256" ? "prime256v1" : "secp384r1",
      );
      assert.ok(cert.notAfter.getTime() - Date.now() <= 3600_000);
    }
  });

  it("carries a nonce when asked, and the verifier can require it", async () => {
    const nonce = new Uint8Array(32).fill(9);
    const c = await issueRaTlsCertificate({ attester, nonce });
    verifyRaTlsCertificate(c.certificateDer, { verifier, collateral, at: new Date(), nonce });
    assert.throws(
      () =>
        verifyRaTlsCertificate(c.certificateDer, {
          verifier,
          collateral,
          at: new Date(),
          nonce: new Uint8Array(32),
        }),
      {
        code: "ERR_RATLS_NONCE_MISMATCH",
      },
    );
  });

  it("refuses a certificate whose quote belongs to another key", async () => {
    const a = parseCertificate((await issueRaTlsCertificate({ attester })).certificateDer);
    const b = parseCertificate((await issueRaTlsCertificate({ attester })).certificateDer);
    const swapped = { ...a, extensions: b.extensions };
    assert.throws(() => verifyRaTlsCertificate(swapped, { verifier, collateral, at: new Date() }), {
      code: "ERR_RATLS_BINDING_MISMATCH",
    });
  });

  it("refuses a certificate whose platform's PCK certificate is revoked", async () => {
    const c = await issueRaTlsCertificate({ attester });
    const json = JSON.parse(platform.collateralJson("sgx"));
    const pck = parsePemCertificates(readFileSync(join(platform.dir, "pck-chain.pem"), "utf8"))[0];
    assert.ok(pck);
    const pckCa = createPrivateKey(readFileSync(join(platform.dir, "keys", "pck-ca.key"), "utf8"));
    const now = new Date();
    const crl = buildCrl({
      issuer: [
        ["CN", "Keyward Simulated PCK Platform CA"],
        ["O", "Keyward Simulation (not a hardware root)"],
      ],
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + 86_400_000),
      revoked: [{ serial: Buffer.from(pck.serialNumber, "hex"), date: now }],
      crlNumber: 2,
      signingKey: pckCa,
    });
    const revoked = parseCollateralJson(JSON.stringify({ ...json, pck_crl: toHex(crl) }));
    assert.throws(
      () => verifyRaTlsCertificate(c.certificateDer, { verifier, collateral: revoked, at: now }),
      { code: "ERR_X509_REVOKED" },
    );
  });

  it("renews the credential before it expires", async () => {
    let t = new Date();
    const identity = createRaTlsIdentity({
      attester,
      validitySeconds: 600,
      renewBeforeSeconds: 120,
      clock: () => t,
    });
    const first = await identity.current();
    assert.equal(await identity.current(), first);
    t = new Date(t.getTime() + 500_000);
    const second = await identity.current();
    assert.notEqual(second.certificatePem, first.certificatePem);
  });
});
