/**
 * DCAP collateral as the verifier takes it: TCB Info and QE Identity as their exact signed bytes
 * with signature and issuer chain, and both CRLs as DER. Two sources: the QuoteCollateralV3 JSON
 * shape (dcap-qvl, the vectors' `collateral.json`) and Intel PCS v4 response bodies.
 *
 * @module
 */
import { fromHex } from "../../bytes/hex.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { JsonFields } from "./json-fields.ts";
import { rawJsonMember } from "./raw-json.ts";

/** A signed collateral body: TCB Info or QE Identity. */
export interface SignedCollateral {
  /** The exact bytes the signature covers. */
  readonly body: Uint8Array;
  /** ECDSA P-256 r‖s. */
  readonly signature: Uint8Array;
  /** The issuer chain, PEM (TCB Signing certificate, then the root). */
  readonly issuerChainPem: string;
}

/** Everything a DCAP verification needs besides the quote. */
export interface DcapCollateral {
  readonly tcbInfo: SignedCollateral;
  readonly qeIdentity: SignedCollateral;
  /** The Root CA CRL, DER. */
  readonly rootCaCrl: Uint8Array;
  /** The PCK CRL of the PCK leaf's issuer (Platform or Processor CA), DER. */
  readonly pckCrl: Uint8Array;
  /** The PCK CRL's issuer chain, PEM. */
  readonly pckCrlIssuerChainPem: string;
}

const MAX_COLLATERAL_TEXT = 8 * 1024 * 1024;
const encoder = new TextEncoder();

/**
 * Reads collateral in the QuoteCollateralV3 JSON shape: `tcb_info` and `qe_identity` are the
 * exact signed JSON strings, signatures hex r‖s, CRLs hex DER, chains PEM.
 * @throws ERR_DCAP_COLLATERAL_MALFORMED, ERR_ENCODING_INVALID
 */
export function parseCollateralJson(text: string): DcapCollateral {
  if (text.length > MAX_COLLATERAL_TEXT) malformed(`more than ${MAX_COLLATERAL_TEXT} characters`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new KeywardError("ERR_DCAP_COLLATERAL_MALFORMED", "collateral: not valid JSON", { cause });
  }
  const f = new JsonFields(json, "collateral");
  return {
    tcbInfo: {
      body: encoder.encode(f.string("tcb_info")),
      signature: f.hex("tcb_info_signature", 64),
      issuerChainPem: f.string("tcb_info_issuer_chain"),
    },
    qeIdentity: {
      body: encoder.encode(f.string("qe_identity")),
      signature: f.hex("qe_identity_signature", 64),
      issuerChainPem: f.string("qe_identity_issuer_chain"),
    },
    rootCaCrl: derOrHex(f.string("root_ca_crl"), "root_ca_crl"),
    pckCrl: derOrHex(f.string("pck_crl"), "pck_crl"),
    pckCrlIssuerChainPem: f.string("pck_crl_issuer_chain"),
  };
}

/** Intel PCS v4 responses, as fetched: bodies as text or bytes, issuer chains from the headers (URL-decoded). */
export interface PcsResponses {
  /** Body of `/tcb?fmspc=`: `{"tcbInfo":{…},"signature":"<hex>"}`. */
  readonly tcbInfoResponse: string;
  /** Header `TCB-Info-Issuer-Chain`, URL-decoded PEM. */
  readonly tcbInfoIssuerChain: string;
  /** Body of `/qe/identity`: `{"enclaveIdentity":{…},"signature":"<hex>"}`. */
  readonly qeIdentityResponse: string;
  /** Header `SGX-Enclave-Identity-Issuer-Chain`, URL-decoded PEM. */
  readonly qeIdentityIssuerChain: string;
  /** Body of `/pckcrl?ca=…&encoding=der`. */
  readonly pckCrl: Uint8Array;
  /** Header `SGX-PCK-CRL-Issuer-Chain`, URL-decoded PEM. */
  readonly pckCrlIssuerChain: string;
  /** The Root CA CRL, DER. */
  readonly rootCaCrl: Uint8Array;
}

/**
 * Collateral from Intel PCS v4 response bodies. The signed `tcbInfo` / `enclaveIdentity` values
 * are cut out of the responses byte for byte, never re-serialized.
 * @throws ERR_DCAP_COLLATERAL_MALFORMED
 */
export function collateralFromPcs(pcs: PcsResponses): DcapCollateral {
  return {
    tcbInfo: signedFromResponse(pcs.tcbInfoResponse, "tcbInfo", pcs.tcbInfoIssuerChain),
    qeIdentity: signedFromResponse(pcs.qeIdentityResponse, "enclaveIdentity", pcs.qeIdentityIssuerChain),
    rootCaCrl: pcs.rootCaCrl,
    pckCrl: pcs.pckCrl,
    pckCrlIssuerChainPem: pcs.pckCrlIssuerChain,
  };
}

function signedFromResponse(text: string, member: string, issuerChainPem: string): SignedCollateral {
  if (text.length > MAX_COLLATERAL_TEXT) malformed(`${member} response too large`);
  const body = encoder.encode(rawJsonMember(text, member));
  const signature = new JsonFields(JSON.parse(text), member).hex("signature", 64);
  return { body, signature, issuerChainPem };
}

// PCCS serves CRLs as hex text or DER; QuoteCollateralV3 carries hex.
function derOrHex(s: string, field: string): Uint8Array {
  return fromHex(s.trim(), `collateral.${field}`);
}

function malformed(message: string): never {
  throw new KeywardError("ERR_DCAP_COLLATERAL_MALFORMED", `collateral: ${message}`);
}
