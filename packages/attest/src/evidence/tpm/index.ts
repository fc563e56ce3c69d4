export type { Credential, CredentialKey } from "../../crypto/tpm-credential.ts";
export { kdfa, kdfe, makeCredential } from "../../crypto/tpm-credential.ts";
export type { AkChallenge } from "./ak-trust.ts";
export { challengeAk, completeAkChallenge, credentialKeyOf, pinnedAk } from "./ak-trust.ts";
export type { PcrBankSelection, TpmQuoteAttest } from "./attest.ts";
export { parseTpmQuoteAttest, readPcrSelection } from "./attest.ts";
export {
  TPM_ALG,
  TPM_BANKS,
  TPM_ECC,
  TPM_GENERATED_VALUE,
  TPM_HASHES,
  TPM_ST_ATTEST_QUOTE,
  TPMA_OBJECT,
} from "./constants.ts";
export type { TrustedEk } from "./ek-certificate.ts";
export { verifyEkCertificate } from "./ek-certificate.ts";
export { parsePcrList, pcrDigestOf, pcrExtend, splitPcrValues } from "./pcr.ts";
export type { TpmPublic } from "./public-area.ts";
export { parseTpm2bPublic, parseTpmtPublic, qualifiedName } from "./public-area.ts";
export type { TpmSignature } from "./signature.ts";
export { parseTpmtSignature } from "./signature.ts";
export type { PcrExpectation, TpmQuoteCheck, TpmQuoteVerdict } from "./verify-quote.ts";
export { diagnoseTpmQuote, verifyTpmQuote } from "./verify-quote.ts";
