/**
 * Verifying an attested key bundle: the evidence is authentic (by the verifier the caller passes,
 * with its trust anchors, collateral and time), and its report data binds exactly this public
 * key, purpose and generation. Appraising the verified claims (MRENCLAVE against reference
 * values, debug, platform, TCB status) is the policy's job, after this.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { sha256 } from "../crypto/digest.ts";
import { p256FromSpki } from "../crypto/p256.ts";
import { secretEqual } from "../crypto/secret-equal.ts";
import { rsaFromSpki } from "../crypto/spki.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import type { VerifiedQuote } from "../evidence/claims.ts";
import { keyBindingReportData } from "./binding.ts";
import type { KeyAlgorithm, KeyBundle } from "./bundle.ts";
import { OE_KEY_CLAIMS, oeCustomClaimsReportData, parseOeCustomClaims } from "./oe-claims.ts";

/** A key whose bundle verified: the key, what it is for, and the verified evidence behind it. */
export interface AttestedKey {
  readonly key: KeyObject;
  /** SHA-256 of the SPKI (32 bytes). */
  readonly keyId: Uint8Array;
  readonly algorithm: KeyAlgorithm;
  readonly purpose: string;
  readonly generation: number;
  readonly verified: VerifiedQuote;
}

/** How to verify the bundle's evidence: a DCAP verifier with anchors, collateral and time. */
export type QuoteVerification = (
  quote: Uint8Array,
  collateral: string | undefined,
) => VerifiedQuote | Promise<VerifiedQuote>;

/**
 * Verifies `bundle`: its public key is a P-256 SPKI, its evidence verifies, and the evidence's
 * report data is {@link keyBindingReportData} of (SPKI, purpose, generation), compared in
 * constant time.
 * @throws ERR_SIGNER_KEY_INVALID, the verifier's codes (ERR_DCAP_…, ERR_X509_…), ERR_SIGNER_BINDING_MISMATCH
 */
export async function verifyKeyBundle(
  bundle: KeyBundle,
  verifyQuote: QuoteVerification,
): Promise<AttestedKey> {
  let key: KeyObject;
  try {
    key =
      bundle.algorithm === "RSA-OAEP-256"
        ? rsaFromSpki(bundle.publicKey, 3072)
        : p256FromSpki(bundle.publicKey);
  } catch (cause) {
    throw new KeywardError(
      "ERR_SIGNER_KEY_INVALID",
      `key bundle: the public key is not ${bundle.algorithm === "RSA-OAEP-256" ? "an RSA-3072" : "a P-256"} SPKI`,
      { cause },
    );
  }
  const verified = await verifyQuote(bundle.evidence.quote, bundle.collateral);
  const expectedTee = bundle.evidence.format === "tdx-dcap" ? "tdx" : "sgx";
  if (verified.tee !== expectedTee)
    throw new KeywardError(
      "ERR_SIGNER_BUNDLE_INVALID",
      `key bundle: evidence.format says ${bundle.evidence.format}, the quote is ${verified.tee}`,
    );
  const mismatch = (why: string) =>
    new KeywardError("ERR_SIGNER_BINDING_MISMATCH", `key bundle: the evidence does not bind ${why}`, {
      detail: { keyId: Buffer.from(bundle.keyId).toString("hex") },
    });
  const claimsBuffer = bundle.evidence.customClaims;
  if (bundle.evidence.format === "oe-custom-claims" && claimsBuffer !== undefined) {
    // Open Enclave: report data = SHA-256(claims buffer) ‖ 0³², and the claims name the key exactly.
    if (!secretEqual(verified.claims.reportData, oeCustomClaimsReportData(claimsBuffer)))
      throw mismatch("this custom-claims buffer");
    const claims = new Map(parseOeCustomClaims(claimsBuffer).map((c) => [c.name, c.value]));
    const g = bundle.generation;
    const expected: [string, Uint8Array][] = [
      [OE_KEY_CLAIMS.event, new TextEncoder().encode(bundle.purpose)],
      [OE_KEY_CLAIMS.publicKeyHash, sha256(bundle.publicKey)],
      [OE_KEY_CLAIMS.generation, Uint8Array.of(g >>> 24, (g >>> 16) & 0xff, (g >>> 8) & 0xff, g & 0xff)],
    ];
    if (claims.size !== expected.length)
      throw mismatch("exactly the key's claims (Event, Public key hash, Generation)");
    for (const [name, value] of expected) {
      const got = claims.get(name);
      if (got === undefined || !secretEqual(got, value)) throw mismatch(`this key: claim "${name}" differs`);
    }
  } else {
    const expected = keyBindingReportData({
      spki: bundle.publicKey,
      purpose: bundle.purpose,
      generation: bundle.generation,
    });
    if (!secretEqual(verified.claims.reportData, expected))
      throw mismatch("this public key, purpose and generation");
  }
  return {
    key,
    keyId: bundle.keyId,
    algorithm: bundle.algorithm,
    purpose: bundle.purpose,
    generation: bundle.generation,
    verified,
  };
}
