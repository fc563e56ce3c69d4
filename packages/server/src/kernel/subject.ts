/**
 * Who is asking: an authenticated caller, whichever way it authenticated (mutual RA-TLS, or a
 * challenge token), and the subject string the audit log names it by.
 *
 * @module
 */
import type { VerifiedQuote } from "@keyward/attest/evidence";

/**
 * How a caller authenticated: mutual RA-TLS, the challenge path, the KBS protocol (Confidential
 * Containers), Gramine's secret provisioning (RA-TLS client certificate), or an attested key
 * bundle (the device registry: the bundle's evidence stands for the enclave that made the key).
 */
export type Via = "ra-tls" | "challenge" | "kbs" | "secret-prov" | "key-bundle";

/** An authenticated caller: verified evidence and how it was presented. */
export interface Caller {
  readonly subject: string;
  readonly verified: VerifiedQuote;
  readonly via: Via;
}

/** `sgx:<MRENCLAVE hex>` or `tdx:<MRTD hex>`: who the audit log says asked. */
export function subjectOf(verified: VerifiedQuote): string {
  const c = verified.claims;
  if (c.tee === "sgx") return `sgx:${Buffer.from(c.mrEnclave).toString("hex")}`;
  return `tdx:${Buffer.from(c.mrTd).toString("hex")}`;
}

/** The caller behind verified evidence. */
export function callerOf(verified: VerifiedQuote, via: Via): Caller {
  return { subject: subjectOf(verified), verified, via };
}
