export type { KeyBindingInput } from "./binding.ts";
export { isKeyPurpose, KEY_BINDING_LABEL, keyBindingReportData } from "./binding.ts";
export type { KeyAlgorithm, KeyBundle, KeyEvidenceFormat } from "./bundle.ts";
export { KEY_ALGORITHMS, parseKeyBundle, serializeKeyBundle } from "./bundle.ts";
export type { CoseSign1 } from "./cose.ts";
export {
  COSE_SIGN1_TAG,
  coseProtectedHeader,
  coseSign1ToBeSigned,
  encodeCoseSign1,
  parseCoseSign1,
  verifyCoseSign1,
} from "./cose.ts";
export type { CosignSignatureImage, ImageReference, OciBlob } from "./cosign.ts";
export {
  COSIGN_PAYLOAD_MEDIA_TYPE,
  COSIGN_SIGNATURE_ANNOTATION,
  checkCosignPayload,
  cosignPayload,
  cosignSignatureImage,
  cosignSignatureTag,
  OCI_MANIFEST_MEDIA_TYPE,
  parseImageReference,
} from "./cosign.ts";
export type { OeCustomClaim } from "./oe-claims.ts";
export {
  OE_CUSTOM_CLAIMS_VERSION,
  OE_KEY_CLAIMS,
  oeCustomClaimsReportData,
  parseOeCustomClaims,
  serializeOeCustomClaims,
} from "./oe-claims.ts";
export type { SignatureFormat } from "./signature.ts";
export { SIGNATURE_FORMATS, verifySignature } from "./signature.ts";
export type { AttestedKey, QuoteVerification } from "./verify-bundle.ts";
export { verifyKeyBundle } from "./verify-bundle.ts";
