/**
 * Issuing RA-TLS certificates inside the enclave: a fresh key pair (P-256 by default, P-384 on
 * request) and a self-signed certificate whose evidence binds that key, in the interoperable TCG
 * format — OID 2.23.133.5.4.9, CBOR 60000([quote, claims]), claims { "pubkey-hash": [1, SHA-256(SPKI)],
 * "nonce"? }, report data = SHA-256(claims) ‖ 32 zero bytes — and optionally Gramine's legacy
 * extension (a second quote, report data = SHA-256(SPKI) ‖ zeros).
 *
 * @module
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { concatBytes } from "@keyward/attest/bytes";
import { encodeCbor } from "@keyward/attest/cbor";
import {
  CBOR_TAG_INTEL_QUOTE,
  OID_GRAMINE_LEGACY,
  OID_TCG_DICE_TAGGED_EVIDENCE,
} from "@keyward/attest/ratls";
import { toPem } from "@keyward/attest/x509";
import type { Attester } from "../attester/attester.ts";
import { buildCertificate } from "../x509/builders.ts";

/** Options of {@link issueRaTlsCertificate}. */
export interface RaTlsIssueOptions {
  readonly attester: Attester;
  readonly curve?: "P-256" | "P-384";
  /** Bound into the claims for per-session freshness. */
  readonly nonce?: Uint8Array;
  /** Also emit Gramine's legacy extension (costs a second quote). */
  readonly legacyExtension?: boolean;
  /** Certificate lifetime; default one hour. Short, so that a leaked key expires soon. */
  readonly validitySeconds?: number;
  readonly now?: Date;
  readonly subject?: string;
}

/** A key and the certificate that carries its evidence. */
export interface RaTlsCredential {
  readonly privateKey: KeyObject;
  readonly certificateDer: Uint8Array;
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
}

/** Makes a fresh key and its RA-TLS certificate. */
export async function issueRaTlsCertificate(options: RaTlsIssueOptions): Promise<RaTlsCredential> {
  const curve = options.curve ?? "P-256";
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
  const spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
  const spkiHash = sha256(spki);
  const claims = new Map<string, Uint8Array>([["pubkey-hash", encodeCbor([1, spkiHash])]]);
  if (options.nonce !== undefined) claims.set("nonce", options.nonce);
  const claimsBytes = encodeCbor(claims);
  const tcgQuote = (await options.attester.attest(concatBytes(sha256(claimsBytes), new Uint8Array(32))))
    .quote;
  const extensions = [
    {
      oid: OID_TCG_DICE_TAGGED_EVIDENCE,
      value: encodeCbor({ tag: CBOR_TAG_INTEL_QUOTE, value: [tcgQuote, claimsBytes] }),
    },
  ];
  if (options.legacyExtension === true) {
    const legacy = (await options.attester.attest(concatBytes(spkiHash, new Uint8Array(32)))).quote;
    extensions.push({ oid: OID_GRAMINE_LEGACY, value: legacy });
  }
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60_000); // tolerate clock skew between peers
  const notAfter = new Date(now.getTime() + (options.validitySeconds ?? 3600) * 1000);
  const name = [["CN", options.subject ?? "Keyward RA-TLS"]] as const;
  const der = buildCertificate({
    serial: new Uint8Array(randomBytes(16)),
    subject: name,
    issuer: name,
    notBefore,
    notAfter,
    publicKey,
    signingKey: privateKey,
    isCa: false,
    keyUsage: ["digitalSignature", "keyAgreement"],
    extensions,
  });
  return {
    privateKey,
    certificateDer: der,
    certificatePem: toPem(der, "CERTIFICATE"),
    keyPem: String(privateKey.export({ type: "pkcs8", format: "pem" })),
    notAfter,
  };
}

/** Holds a current RA-TLS credential and renews it before it expires. */
export interface RaTlsIdentity {
  current(): Promise<RaTlsCredential>;
}

/** A renewing holder: a new key and certificate when less than `renewBeforeSeconds` remain. */
export function createRaTlsIdentity(
  options: Omit<RaTlsIssueOptions, "now"> & {
    readonly renewBeforeSeconds?: number;
    readonly clock?: () => Date;
  },
): RaTlsIdentity {
  let credential: Promise<RaTlsCredential> | undefined;
  const clock = options.clock ?? (() => new Date());
  const renewBefore = (options.renewBeforeSeconds ?? 300) * 1000;
  return {
    async current() {
      const c = credential === undefined ? undefined : await credential.catch(() => undefined);
      if (c === undefined || c.notAfter.getTime() - clock().getTime() < renewBefore) {
        credential = issueRaTlsCertificate({ ...options, now: clock() });
      }
      return credential ?? Promise.reject(new Error("unreachable"));
    },
  };
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(b).digest());
}
