/**
 * Where RA-TLS certificates carry their evidence (reference: ratls.md).
 *
 * @module
 */

/** TCG DICE conceptual message wrapper ("tagged evidence"): CBOR 60000([quote, claims]). */
export const OID_TCG_DICE_TAGGED_EVIDENCE = "2.23.133.5.4.9";
/** Gramine's legacy extension as it really appears: the OID content bytes 06 09 2A 86 48 86 F8 4D 8A 39 06. */
export const OID_GRAMINE_LEGACY_AS_ENCODED = "0.6.9.42.840.113741.1337.6";
/** The OID Gramine meant (other stacks emit it correctly). */
export const OID_GRAMINE_LEGACY = "1.2.840.113741.1337.6";
/** Intel SGX SDK RA-TLS: the raw quote (same OID as the PCK extension, in a self-signed leaf). */
export const OID_INTEL_SGX_SDK = "1.2.840.113741.1.13.1";
/** Open Enclave: report (legacy API) and evidence (v2 API). */
export const OID_OE_REPORT = "1.3.6.1.4.1.311.105.1";
export const OID_OE_EVIDENCE = "1.3.6.1.4.1.311.105.2";
/** CBOR tag 60000: Intel TEE quote. */
export const CBOR_TAG_INTEL_QUOTE = 60000;
