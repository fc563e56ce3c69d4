/**
 * Which collateral a quote needs: its TEE, its platform's FMSPC and its PCK CA, read from the
 * quote's own PCK certificate (nothing is trusted from it before verification: a wrong answer
 * only fetches collateral that will then fail to verify).
 *
 * @module
 */
import { parseDcapQuote } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { parsePckExtensions, parsePemCertificates } from "@keyward/attest/x509";
import type { CollateralRequest } from "./pcs-provider.ts";

/** The collateral request for `quote`. @throws the quote parser's codes, ERR_COLLATERAL_MALFORMED */
export function collateralRequestFor(quote: Uint8Array): CollateralRequest {
  const q = parseDcapQuote(quote);
  const [leaf] = parsePemCertificates(q.signatureData.pckChainPem, 4);
  if (leaf === undefined)
    throw new KeywardError("ERR_COLLATERAL_MALFORMED", "quote carries no PCK certificate");
  const ca = /Processor CA/.test(leaf.issuer) ? "processor" : "platform";
  return { tee: q.header.teeType === 0 ? "sgx" : "tdx", fmspc: parsePckExtensions(leaf).fmspc, ca };
}
