/**
 * The one table from error codes to gRPC/Connect statuses, typed over the closed code union: a
 * code without a status does not compile. The library's codes are listed here by area; the
 * service's codes carry their status where they are declared (`codes/*.ts`).
 *
 * Evidence that does not parse or verify is the caller's failure to authenticate
 * (UNAUTHENTICATED), malformed requests are INVALID_ARGUMENT, and only a fault of the service
 * itself is INTERNAL.
 *
 * @module
 */
import { Code } from "@connectrpc/connect";
import type { ErrorCode, LibraryErrorCode } from "@keyward/attest/errors";
import { type ServiceErrorCode, serviceCatalogue } from "./catalogue.ts";

const LIBRARY_STATUS: { readonly [C in LibraryErrorCode]: Code } = {
  // general
  ERR_BYTES_TRUNCATED: Code.InvalidArgument,
  ERR_BYTES_TRAILING: Code.InvalidArgument,
  ERR_BYTES_LIMIT: Code.InvalidArgument,
  ERR_ENCODING_INVALID: Code.InvalidArgument,
  ERR_KEY_INVALID: Code.InvalidArgument,
  ERR_INPUT_INVALID: Code.InvalidArgument,
  ERR_USAGE: Code.InvalidArgument,
  ERR_IO: Code.Internal,
  ERR_INTERNAL: Code.Internal,
  // x509, CRLs, PCK extensions: a caller's certificate chain
  ERR_DER_MALFORMED: Code.Unauthenticated,
  ERR_X509_MALFORMED: Code.Unauthenticated,
  ERR_X509_ALGORITHM_UNSUPPORTED: Code.Unauthenticated,
  ERR_X509_SIGNATURE_INVALID: Code.Unauthenticated,
  ERR_X509_EXPIRED: Code.Unauthenticated,
  ERR_X509_UNTRUSTED_ROOT: Code.Unauthenticated,
  ERR_X509_PATH_INVALID: Code.Unauthenticated,
  ERR_X509_REVOKED: Code.Unauthenticated,
  ERR_CRL_MALFORMED: Code.Unauthenticated,
  ERR_CRL_SIGNATURE_INVALID: Code.Unauthenticated,
  ERR_CRL_ISSUER_MISMATCH: Code.Unauthenticated,
  ERR_CRL_EXPIRED: Code.Unauthenticated,
  ERR_PCK_EXTENSION_MALFORMED: Code.Unauthenticated,
  // DCAP quotes and their collateral
  ERR_DCAP_UNSUPPORTED: Code.Unauthenticated,
  ERR_DCAP_MALFORMED: Code.Unauthenticated,
  ERR_DCAP_QUOTE_SIGNATURE_INVALID: Code.Unauthenticated,
  ERR_DCAP_QE_REPORT_SIGNATURE_INVALID: Code.Unauthenticated,
  ERR_DCAP_QE_REPORT_DATA_MISMATCH: Code.Unauthenticated,
  ERR_DCAP_QE_IDENTITY_MISMATCH: Code.Unauthenticated,
  ERR_DCAP_PCK_CHAIN_INVALID: Code.Unauthenticated,
  ERR_DCAP_COLLATERAL_MALFORMED: Code.Unauthenticated,
  ERR_DCAP_COLLATERAL_SIGNATURE_INVALID: Code.Unauthenticated,
  ERR_DCAP_COLLATERAL_EXPIRED: Code.Unauthenticated,
  ERR_DCAP_COLLATERAL_MISMATCH: Code.Unauthenticated,
  ERR_DCAP_TCB_SIGNING_CHAIN_INVALID: Code.Unauthenticated,
  ERR_DCAP_TCB_NOT_SUPPORTED: Code.Unauthenticated,
  ERR_DCAP_TDX_MODULE_MISMATCH: Code.Unauthenticated,
  ERR_DCAP_TCB_REVOKED: Code.Unauthenticated,
  ERR_DCAP_QE_TCB_REVOKED: Code.Unauthenticated,
  ERR_DCAP_TDX_MODULE_REVOKED: Code.Unauthenticated,
  // collateral for a caller's quote: the quote names what to fetch; fetching may fail for a while
  ERR_COLLATERAL_MALFORMED: Code.Unauthenticated,
  ERR_COLLATERAL_FETCH_FAILED: Code.Unavailable,
  // policies
  ERR_POLICY_INVALID: Code.InvalidArgument,
  ERR_POLICY_REJECTED: Code.Unauthenticated,
  // the simulated platform
  ERR_SIM_EXISTS: Code.AlreadyExists,
  ERR_SIM_NOT_FOUND: Code.FailedPrecondition,
  // TPM quotes (evidence) and the TPM device (the service's own)
  ERR_TPM_PUBLIC_INVALID: Code.Unauthenticated,
  ERR_TPM_ATTEST_INVALID: Code.Unauthenticated,
  ERR_TPM_SIGNATURE_MALFORMED: Code.Unauthenticated,
  ERR_TPM_AK_ATTRIBUTES: Code.Unauthenticated,
  ERR_TPM_SCHEME_UNSUPPORTED: Code.Unauthenticated,
  ERR_TPM_QUOTE_SIGNATURE_INVALID: Code.Unauthenticated,
  ERR_TPM_EXTRA_DATA_MISMATCH: Code.Unauthenticated,
  ERR_TPM_PCR_SELECTION_MISMATCH: Code.Unauthenticated,
  ERR_TPM_PCR_DIGEST_MISMATCH: Code.Unauthenticated,
  ERR_TPM_PCR_POLICY_MISMATCH: Code.Unauthenticated,
  ERR_TPM_QUALIFIED_SIGNER_MISMATCH: Code.Unauthenticated,
  ERR_TPM_CLOCK_REGRESSION: Code.Unauthenticated,
  ERR_TPM_AK_UNTRUSTED: Code.Unauthenticated,
  ERR_TPM_EK_UNTRUSTED: Code.Unauthenticated,
  ERR_TPM_RESPONSE: Code.Unavailable,
  ERR_TPM_TRANSPORT: Code.Unavailable,
  // enclaves, sealing and attesters
  ERR_SIGSTRUCT_MALFORMED: Code.InvalidArgument,
  ERR_SIGSTRUCT_SIGNATURE_INVALID: Code.Unauthenticated,
  ERR_MEASUREMENT_MISMATCH: Code.Unauthenticated,
  ERR_MANIFEST_INVALID: Code.InvalidArgument,
  ERR_ENCLAVE_FILE_CHANGED: Code.FailedPrecondition,
  ERR_ENCLAVE_CHANNEL: Code.Unavailable,
  ERR_SEAL_SVN_TOO_HIGH: Code.FailedPrecondition,
  ERR_SEALED_BLOB_INVALID: Code.DataLoss,
  ERR_ATTESTER_UNAVAILABLE: Code.Unavailable,
  ERR_ATTESTER_FAILED: Code.Unavailable,
  // RA-TLS certificates and CBOR inside them
  ERR_RATLS_NO_EVIDENCE: Code.Unauthenticated,
  ERR_RATLS_MALFORMED: Code.Unauthenticated,
  ERR_RATLS_BINDING_MISMATCH: Code.Unauthenticated,
  ERR_RATLS_NONCE_MISMATCH: Code.Unauthenticated,
  ERR_RATLS_CERT_EXPIRED: Code.Unauthenticated,
  ERR_RATLS_POLICY_REJECTED: Code.Unauthenticated,
  ERR_CBOR_INVALID: Code.Unauthenticated,
  // attested signing keys: a bundle or a signature presented to the device registry
  ERR_SIGNER_BUNDLE_INVALID: Code.InvalidArgument,
  ERR_SIGNER_KEY_INVALID: Code.InvalidArgument,
  ERR_SIGNER_BINDING_MISMATCH: Code.Unauthenticated,
  ERR_SIGNER_SIGNATURE_MALFORMED: Code.InvalidArgument,
  ERR_SIGNER_SIGNATURE_INVALID: Code.Unauthenticated,
  ERR_SIGNER_KEY_MISMATCH: Code.Unauthenticated,
  ERR_SIGNER_REGISTRY_FAILED: Code.Unavailable,
};

const SERVICE_STATUS = Object.fromEntries(
  Object.entries(serviceCatalogue).map(([code, spec]) => [code, spec.status]),
) as { readonly [C in ServiceErrorCode]: Code };

/** Every code's gRPC/Connect status. */
export const STATUS: { readonly [C in ErrorCode]: Code } = { ...LIBRARY_STATUS, ...SERVICE_STATUS };

/** The status a caller receives for `code`. */
export function statusOf(code: ErrorCode): Code {
  return STATUS[code];
}
