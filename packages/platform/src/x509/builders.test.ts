import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { describe, it } from "node:test";
import { parseCertificate, parseCrl, verifyCertificateChain } from "@keyward/attest/x509";
import { buildCertificate, buildCrl, type NameSpec } from "./builders.ts";

const key = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2027-01-01T00:00:00Z");
const at = new Date("2026-06-01T00:00:00Z");
const name = (cn: string): NameSpec => [["CN", cn]];

function issue(
  subject: string,
  issuer: string,
  pub: KeyObject,
  signer: KeyObject,
  extra: Partial<Parameters<typeof buildCertificate>[0]> = {},
) {
  return parseCertificate(
    buildCertificate({
      serial: Uint8Array.of(subject.length, 1),
      subject: name(subject),
      issuer: name(issuer),
      notBefore: t0,
      notAfter: t1,
      publicKey: pub,
      signingKey: signer,
      ...extra,
    }),
  );
}

describe("certificate and CRL builders, checked by the X.509 validator", () => {
  const rootKey = key();
  const caKey = key();
  const leafKey = key();
  const root = issue("root", "root", rootKey.publicKey, rootKey.privateKey, {
    isCa: true,
    pathLength: 0,
    keyUsage: ["keyCertSign", "cRLSign"],
  });
  const ca = issue("ca", "root", caKey.publicKey, rootKey.privateKey, {
    isCa: true,
    keyUsage: ["keyCertSign", "cRLSign"],
  });
  const leaf = issue("leaf", "ca", leafKey.publicKey, caKey.privateKey, {
    isCa: false,
    keyUsage: ["digitalSignature"],
  });
  const crl = (revoked: Uint8Array[]) =>
    parseCrl(
      buildCrl({
        issuer: name("ca"),
        thisUpdate: t0,
        nextUpdate: t1,
        revoked: revoked.map((serial) => ({ serial, date: t0 })),
        crlNumber: 7,
        signingKey: caKey.privateKey,
      }),
    );

  it("builds certificates that parse with their fields", () => {
    assert.equal(root.subject, "CN=root");
    assert.equal(root.isCa, true);
    assert.equal(root.pathLength, 0);
    assert.ok(root.keyUsage?.has("keyCertSign"));
    assert.equal(leaf.isCa, false);
    assert.deepEqual(leaf.notBefore, t0);
  });

  it("enforces pathLenConstraint: a root with pathLen 0 cannot have an intermediate", () => {
    assert.throws(() => verifyCertificateChain([leaf, ca, root], { anchors: [root], at }), {
      code: "ERR_X509_PATH_INVALID",
    });
    const open = issue("root", "root", rootKey.publicKey, rootKey.privateKey, {
      isCa: true,
      keyUsage: ["keyCertSign"],
    });
    const r = verifyCertificateChain([leaf, ca, open], { anchors: [open], at, crls: [crl([])] });
    assert.equal(r.path.length, 2);
  });

  it("refuses a leaf revoked by its issuer's CRL", () => {
    const open = issue("root", "root", rootKey.publicKey, rootKey.privateKey, { isCa: true });
    const serial = Uint8Array.from(Buffer.from(leaf.serialNumber, "hex"));
    assert.throws(() => verifyCertificateChain([leaf, ca], { anchors: [open], at, crls: [crl([serial])] }), {
      code: "ERR_X509_REVOKED",
    });
  });

  it("refuses issuers that are not CAs or lack keyCertSign", () => {
    const notCa = issue("ca", "root", caKey.publicKey, rootKey.privateKey, { isCa: false });
    const noSign = issue("ca", "root", caKey.publicKey, rootKey.privateKey, {
      isCa: true,
      keyUsage: ["digitalSignature"],
    });
    const open = issue("root", "root", rootKey.publicKey, rootKey.privateKey, { isCa: true });
    assert.throws(() => verifyCertificateChain([leaf, notCa], { anchors: [open], at }), {
      code: "ERR_X509_PATH_INVALID",
    });
    assert.throws(() => verifyCertificateChain([leaf, noSign], { anchors: [open], at }), {
      code: "ERR_X509_PATH_INVALID",
    });
  });

  it("refuses a certificate signed by another key, and one not yet valid", () => {
    const open = issue("root", "root", rootKey.publicKey, rootKey.privateKey, { isCa: true });
    const forged = issue("leaf", "ca", leafKey.publicKey, key().privateKey);
    assert.throws(() => verifyCertificateChain([forged, ca], { anchors: [open], at }), {
      code: "ERR_X509_SIGNATURE_INVALID",
    });
    assert.throws(
      () => verifyCertificateChain([leaf, ca], { anchors: [open], at: new Date("2025-12-31T00:00:00Z") }),
      {
        code: "ERR_X509_EXPIRED",
      },
    );
  });

  it("refuses a CRL signed by another key", () => {
    const open = issue("root", "root", rootKey.publicKey, rootKey.privateKey, { isCa: true });
    const bad = parseCrl(
      buildCrl({
        issuer: name("ca"),
        thisUpdate: t0,
        nextUpdate: t1,
        revoked: [],
        crlNumber: 1,
        signingKey: key().privateKey,
      }),
    );
    assert.throws(() => verifyCertificateChain([leaf, ca], { anchors: [open], at, crls: [bad] }), {
      code: "ERR_CRL_SIGNATURE_INVALID",
    });
  });
});
