/**
 * The simulated platform's PKI, shaped like Intel's: a root CA, a PCK Platform CA, a PCK leaf
 * with the SGX extension (OID 1.2.840.113741.1.13.1, the structure real PCK certificates use),
 * and a TCB Signing certificate for TCB Info and QE Identity.
 *
 * @module
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { OID_SGX } from "@keyward/attest/x509";
import { buildCertificate } from "../x509/builders.ts";
import {
  derBoolean,
  derEnumerated,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
} from "../x509/der-writer.ts";
import {
  PCK_CA_NAME,
  PCK_NAME,
  ROOT_NAME,
  SIM_FMSPC,
  SIM_PCE_ID,
  SIM_PCE_SVN,
  SIM_SGX_COMPONENTS,
  TCB_SIGNING_NAME,
} from "./profile.ts";

/** The private keys of the simulated platform. */
export interface SimKeys {
  readonly root: KeyObject;
  readonly pckCa: KeyObject;
  readonly pck: KeyObject;
  readonly tcbSigning: KeyObject;
  readonly attestation: KeyObject;
}

/** The certificates of the simulated platform, DER. */
export interface SimCertificates {
  readonly root: Uint8Array;
  readonly pckCa: Uint8Array;
  readonly pck: Uint8Array;
  readonly tcbSigning: Uint8Array;
}

const CERT_YEARS = 10;

/** Issues the hierarchy for `keys`, valid from a day before `now` for ten years. */
export function issueSimCertificates(keys: SimKeys, now: Date, platformId: Uint8Array): SimCertificates {
  const notBefore = new Date(now.getTime() - 86_400_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CERT_YEARS);
  const pub = (k: KeyObject) => publicOf(k);
  const root = buildCertificate({
    serial: serialFor("root", platformId),
    subject: ROOT_NAME,
    issuer: ROOT_NAME,
    notBefore,
    notAfter,
    publicKey: pub(keys.root),
    signingKey: keys.root,
    isCa: true,
    pathLength: 1,
    keyUsage: ["keyCertSign", "cRLSign"],
  });
  const pckCa = buildCertificate({
    serial: serialFor("pck-ca", platformId),
    subject: PCK_CA_NAME,
    issuer: ROOT_NAME,
    notBefore,
    notAfter,
    publicKey: pub(keys.pckCa),
    signingKey: keys.root,
    isCa: true,
    pathLength: 0,
    keyUsage: ["keyCertSign", "cRLSign"],
  });
  const pck = buildCertificate({
    serial: serialFor("pck", platformId),
    subject: PCK_NAME,
    issuer: PCK_CA_NAME,
    notBefore,
    notAfter,
    publicKey: pub(keys.pck),
    signingKey: keys.pckCa,
    isCa: false,
    keyUsage: ["digitalSignature"],
    extensions: [{ oid: OID_SGX.EXTENSIONS, value: pckExtension(platformId) }],
  });
  const tcbSigning = buildCertificate({
    serial: serialFor("tcb", platformId),
    subject: TCB_SIGNING_NAME,
    issuer: ROOT_NAME,
    notBefore,
    notAfter,
    publicKey: pub(keys.tcbSigning),
    signingKey: keys.root,
    isCa: false,
    keyUsage: ["digitalSignature"],
  });
  return { root, pckCa, pck, tcbSigning };
}

/** The SGX extension of the simulated PCK certificate. */
function pckExtension(platformId: Uint8Array): Uint8Array {
  const entry = (arc: string, value: Uint8Array) => derSequence(derOid(arc), value);
  const tcb = derSequence(
    ...SIM_SGX_COMPONENTS.map((svn, i) => entry(`${OID_SGX.TCB}.${i + 1}`, derInteger(svn))),
    entry(`${OID_SGX.TCB}.17`, derInteger(SIM_PCE_SVN)),
    entry(`${OID_SGX.TCB}.18`, derOctetString(Uint8Array.from(SIM_SGX_COMPONENTS))),
  );
  return derSequence(
    entry(OID_SGX.PPID, derOctetString(platformId.subarray(0, 16))),
    entry(OID_SGX.TCB, tcb),
    entry(OID_SGX.PCEID, derOctetString(SIM_PCE_ID)),
    entry(OID_SGX.FMSPC, derOctetString(SIM_FMSPC)),
    entry(OID_SGX.SGX_TYPE, derEnumerated(1)),
    entry(OID_SGX.PLATFORM_INSTANCE_ID, derOctetString(platformId.subarray(0, 16))),
    entry(
      OID_SGX.CONFIGURATION,
      derSequence(
        entry(`${OID_SGX.CONFIGURATION}.1`, derBoolean(false)),
        entry(`${OID_SGX.CONFIGURATION}.2`, derBoolean(false)),
        entry(`${OID_SGX.CONFIGURATION}.3`, derBoolean(true)),
      ),
    ),
  );
}

function serialFor(role: string, platformId: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(role).update(platformId).digest().subarray(0, 16));
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === "private" ? createPublicKey(key) : key;
}
