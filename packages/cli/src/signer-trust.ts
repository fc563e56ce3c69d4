/**
 * The cloud side of `keyward signer`: reading a bundle and verifying it with the trust the flags
 * name (Intel's root, and the simulation root only when asked), the collateral the bundle carries
 * or a file or PCCS, and appraising its enclave against a policy.
 *
 * @module
 */
import { type Appraisal, appraise, type Policy } from "@keyward/attest/appraisal";
import { createDcapVerifier, type DcapCollateral, parseCollateralJson } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { type AttestedKey, type KeyBundle, parseKeyBundle, verifyKeyBundle } from "@keyward/attest/signer";
import { readTextBounded } from "@keyward/platform/io";
import { fetchCollateral, parseTime, readCollateral, readPolicy, trustAnchors } from "./inputs.ts";

/** The trust and time flags shared by verify-bundle and verify. */
export interface SignerTrustFlags {
  readonly collateral?: string | undefined;
  readonly pccs?: string | undefined;
  readonly at?: string | undefined;
  readonly "trust-sim"?: boolean | undefined;
  readonly "sim-root"?: string | undefined;
  readonly "data-dir"?: string | undefined;
  readonly policy?: string | undefined;
}

/** A bundle read from a file. @throws ERR_IO, ERR_SIGNER_BUNDLE_INVALID */
export function readBundle(path: string): KeyBundle {
  return parseKeyBundle(readTextBounded(path, { kind: "document", what: "key bundle" }));
}

/** A verified and appraised key. */
export interface CheckedKey {
  readonly attested: AttestedKey;
  readonly appraisal: Appraisal;
  readonly policyGiven: boolean;
}

/**
 * Verifies `bundle` (evidence, binding) and appraises its enclave against the flags' policy, or
 * the default policy (genuine hardware, no debug, UpToDate) when none is given.
 * @throws ERR_SIGNER_*, ERR_DCAP_*, ERR_X509_*, ERR_USAGE (no collateral), ERR_POLICY_INVALID
 */
export async function checkBundle(bundle: KeyBundle, flags: SignerTrustFlags): Promise<CheckedKey> {
  const at = flags.at === undefined ? new Date() : parseTime(flags.at);
  const policy: Policy =
    flags.policy === undefined
      ? (await import("@keyward/attest/appraisal")).policyFromObject({ id: "default" }, "default policy")
      : await readPolicy(flags.policy);
  const anchors = trustAnchors(flags["trust-sim"] === true, flags["sim-root"], flags["data-dir"]);
  const verifier = createDcapVerifier({ anchors });
  const attested = await verifyKeyBundle(bundle, async (quote, carried) => {
    let collateral: DcapCollateral;
    if (flags.collateral !== undefined) collateral = readCollateral(flags.collateral);
    else if (flags.pccs !== undefined) collateral = await fetchCollateral(flags.pccs, quote);
    else if (carried !== undefined) collateral = parseCollateralJson(carried);
    else
      throw new KeywardError(
        "ERR_USAGE",
        "the bundle carries no collateral: give --collateral FILE or --pccs URL",
      );
    return verifier.verify(quote, collateral, at);
  });
  return {
    attested,
    appraisal: appraise(attested.verified, policy),
    policyGiven: flags.policy !== undefined,
  };
}
