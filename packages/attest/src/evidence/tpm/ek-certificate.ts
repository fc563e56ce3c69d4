/**
 * Trusting an EK by its certificate (TCG EK Credential Profile): the certificate chains to a
 * configured manufacturer root, names the EK purpose (EKU 2.23.133.8.1), and certifies the key the
 * verifier will encrypt a credential to. Roots are the caller's; nothing in the evidence is trusted.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { KeywardError } from "../../errors/keyward-error.ts";
import { type Certificate, findExtension, parseCertificate } from "../../x509/certificate.ts";
import { verifyCertificateChain } from "../../x509/chain.ts";
import { DerReader, TAG } from "../../x509/der.ts";

/** tcg-kp-EKCertificate (TCG EK Credential Profile §3.2.16). */
const EKU_EK_CERTIFICATE = "2.23.133.8.1";
const OID_EXTENDED_KEY_USAGE = "2.5.29.37";

/** A verified EK certificate. */
export interface TrustedEk {
  readonly certificate: Certificate;
  /** The EK public key the certificate vouches for. */
  readonly key: KeyObject;
  readonly type: "rsa" | "ecc";
}

/**
 * Verifies an EK certificate (DER) against manufacturer roots at time `at`.
 * @throws ERR_TPM_EK_UNTRUSTED, and the X.509 codes of the chain validation
 */
export function verifyEkCertificate(
  der: Uint8Array,
  options: {
    readonly roots: readonly Certificate[];
    readonly intermediates?: readonly Certificate[];
    readonly at: Date;
  },
): TrustedEk {
  const certificate = parseCertificate(der);
  verifyCertificateChain([certificate, ...(options.intermediates ?? [])], {
    anchors: options.roots,
    at: options.at,
  });
  const eku = findExtension(certificate, OID_EXTENDED_KEY_USAGE);
  if (eku === undefined || !readOids(eku.value).includes(EKU_EK_CERTIFICATE)) {
    throw new KeywardError(
      "ERR_TPM_EK_UNTRUSTED",
      "EK certificate: no tcg-kp-EKCertificate extended key usage",
    );
  }
  const type = certificate.publicKey.asymmetricKeyType;
  if (type !== "rsa" && type !== "ec")
    throw new KeywardError("ERR_TPM_EK_UNTRUSTED", `EK certificate: ${type ?? "unknown"} key`);
  return { certificate, key: certificate.publicKey, type: type === "rsa" ? "rsa" : "ecc" };
}

function readOids(value: Uint8Array): string[] {
  const outer = new DerReader(value, "extendedKeyUsage");
  const seq = outer.enter(TAG.SEQUENCE, "ExtKeyUsageSyntax");
  outer.end();
  const oids: string[] = [];
  while (!seq.done) oids.push(seq.oid("KeyPurposeId"));
  return oids;
}
