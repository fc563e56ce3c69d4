/**
 * Collateral as a verifier keeps it: parsed once per collateral object, with the validity windows
 * of the checks that passed against it. A check that passed once passes again, with the same
 * bytes, at any time inside its window (signatures and revocation do not depend on the time);
 * outside it the full check runs again and reports exactly what failed.
 *
 * @module
 */
import type { Certificate } from "../../x509/certificate.ts";
import { type Crl, parseCrl } from "../../x509/crl.ts";
import type { DcapCollateral } from "./collateral.ts";
import { parseQeIdentity, type QeIdentity } from "./qe-identity.ts";
import { parseTcbInfo, type TcbInfo } from "./tcb-info.ts";

/** A check that passed, the anchor it rests on, and the window in which it passes again. */
export interface Verified {
  readonly anchor: Certificate;
  readonly validFrom: number;
  readonly validUntil: number;
}

/** Parsed collateral and what has been verified against it. */
export interface PreparedCollateral {
  readonly source: DcapCollateral;
  readonly tcbInfo: TcbInfo;
  readonly tcbChain: readonly Certificate[];
  readonly qeIdentity: QeIdentity;
  readonly qeChain: readonly Certificate[];
  readonly rootCrl: Crl;
  readonly pckCrl: Crl;
  /** Windows of passed checks, by what was checked (a parsed chain, a signed document). */
  readonly windows: WeakMap<object, Verified>;
}

/**
 * Parses `c`; `chainOf` turns a PEM chain into certificates (and may reuse parsed ones).
 * @throws the codes of parseTcbInfo, parseQeIdentity, parseCrl and `chainOf`
 */
export function prepareCollateral(
  c: DcapCollateral,
  chainOf: (pem: string) => readonly Certificate[],
): PreparedCollateral {
  return {
    source: c,
    tcbInfo: parseTcbInfo(c.tcbInfo.body),
    tcbChain: chainOf(c.tcbInfo.issuerChainPem),
    qeIdentity: parseQeIdentity(c.qeIdentity.body),
    qeChain: chainOf(c.qeIdentity.issuerChainPem),
    rootCrl: parseCrl(c.rootCaCrl),
    pckCrl: parseCrl(c.pckCrl),
    windows: new WeakMap(),
  };
}

/** The result of `verify` for `subject`, reused while `at` is inside the window it returned. */
export function windowed(
  c: PreparedCollateral,
  subject: object,
  at: number,
  verify: () => Verified,
): Verified {
  const hit = c.windows.get(subject);
  if (hit !== undefined && at >= hit.validFrom && at <= hit.validUntil) return hit;
  const fresh = verify();
  c.windows.set(subject, fresh);
  return fresh;
}

/** The latest start of validity of `certs` and `crls` (ms since the epoch). */
export function validFrom(certs: readonly Certificate[], crls: readonly Crl[]): number {
  let t = 0;
  for (const cert of certs) t = Math.max(t, cert.notBefore.getTime());
  for (const crl of crls) t = Math.max(t, crl.thisUpdate.getTime());
  return t;
}
