/** Error codes of DCAP quotes and their collateral. */
export const dcapCodes = {
  ERR_DCAP_UNSUPPORTED:
    "The quote's version, TEE type, attestation key type, QE vendor or certification data type is not supported.",
  ERR_DCAP_MALFORMED: "A quote field contradicts the layout its version defines.",
  ERR_DCAP_QUOTE_SIGNATURE_INVALID: "The quote signature does not verify with the attestation key.",
  ERR_DCAP_QE_REPORT_SIGNATURE_INVALID:
    "The QE report signature does not verify with the PCK certificate's key.",
  ERR_DCAP_QE_REPORT_DATA_MISMATCH: "The QE report data does not bind the attestation key and QE auth data.",
  ERR_DCAP_QE_IDENTITY_MISMATCH:
    "The quoting enclave is not the one QE Identity describes (MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES).",
  ERR_DCAP_PCK_CHAIN_INVALID:
    "The PCK certificate chain in the quote is not the three-certificate chain Intel issues.",
  ERR_DCAP_TCB_SIGNING_CHAIN_INVALID:
    "The issuer chain of TCB Info or QE Identity is not the two-certificate chain Intel issues (TCB Signing certificate, root).",
  ERR_DCAP_COLLATERAL_MALFORMED: "TCB Info, QE Identity or the collateral document is malformed.",
  ERR_DCAP_COLLATERAL_SIGNATURE_INVALID:
    "TCB Info or QE Identity is not signed by the TCB Signing certificate.",
  ERR_DCAP_COLLATERAL_EXPIRED:
    "TCB Info or QE Identity is outside issueDate..nextUpdate at the verification time.",
  ERR_DCAP_COLLATERAL_MISMATCH:
    "The collateral is for another platform or TEE (FMSPC, PCE-ID, TCB Info id, QE Identity id).",
  ERR_DCAP_TCB_NOT_SUPPORTED:
    "No TCB level of the TCB Info matches the platform (or the QE): Intel's TCB_NOT_SUPPORTED.",
  ERR_DCAP_TCB_REVOKED:
    "The platform's TCB level in TCB Info is Revoked: terminal in Intel's QVL (STATUS_TCB_REVOKED); no policy can accept it.",
  ERR_DCAP_QE_TCB_REVOKED:
    "The QE Identity TCB level for the quoting enclave's ISVSVN is Revoked: terminal in Intel's QVL (ISVSVN_REVOKED).",
  ERR_DCAP_TDX_MODULE_REVOKED:
    "The TDX module identity's TCB level for the module's ISVSVN is Revoked: terminal in Intel's QVL.",
  ERR_DCAP_TDX_MODULE_MISMATCH:
    "The TDX module's signer or attributes differ from TCB Info, or its identity is missing.",
} as const;
