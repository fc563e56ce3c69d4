/**
 * Verifying an attested key bundle: the evidence is authentic (by the verifier the caller passes,
 * with its trust anchors, collateral and time), and its report data binds exactly this public
 * key, purpose and generation. Appraising the verified claims (MRENCLAVE against reference
 * values, debug, platform, TCB status) is the policy's job, after this.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { p256FromSpki } from "../crypto/p256.ts";
import { secretEqual } from "../crypto/secret-equal.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import type { VerifiedQuote } from "../evidence/claims.ts";
import { keyBindingReportData } from "./binding.ts";
import type { KeyBundle } from "./bundle.ts";

/** A key whose bundle verified: the key, what it is for, and the verified evidence behind it. */
export interface AttestedKey {
  readonly key: KeyObject;
  /** SHA-256 of the SPKI (32 bytes). */
  readonly keyId: Uint8Array;
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
    key = p256FromSpki(bundle.publicKey);
  } catch (cause) {
    throw new KeywardError("ERR_SIGNER_KEY_INVALID", "key bundle: the public key is not a P-256 SPKI", {
      cause,
    });
  }
  const verified = await verifyQuote(bundle.evidence.quote, bundle.collateral);
  const expectedTee = bundle.evidence.format === "sgx-dcap" ? "sgx" : "tdx";
  if (verified.tee !== expectedTee)
    throw new KeywardError(
      "ERR_SIGNER_BUNDLE_INVALID",
      `key bundle: evidence.format says ${bundle.evidence.format}, the quote is ${verified.tee}`,
    );
  const expected = keyBindingReportData({
    spki: bundle.publicKey,
    purpose: bundle.purpose,
    generation: bundle.generation,
  });
  if (!secretEqual(verified.claims.reportData, expected))
    throw new KeywardError(
      "ERR_SIGNER_BINDING_MISMATCH",
      "key bundle: the evidence does not bind this public key, purpose and generation",
      { detail: { keyId: Buffer.from(bundle.keyId).toString("hex") } },
    );
  return { key, keyId: bundle.keyId, purpose: bundle.purpose, generation: bundle.generation, verified };
}
