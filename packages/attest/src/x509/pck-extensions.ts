/**
 * The SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1; Intel SGX PCK Certificate and
 * CRL Profile §1.3.5): a SEQUENCE of { OID, value } pairs.
 *
 * @module
 */
import { KeywardError } from "../errors/keyward-error.ts";
import { type Certificate, findExtension } from "./certificate.ts";
import { DerReader, TAG } from "./der.ts";
import { decodeOid } from "./oid.ts";
import { OID_SGX } from "./oids.ts";

/** The platform facts a PCK certificate carries. */
export interface PckExtensions {
  /** PPID, 16 bytes. */
  readonly ppid: Uint8Array;
  readonly tcb: {
    /** SGX TCB component SVNs 1..16 (OIDs .2.1–.2.16), what QVL matches TCB levels on. */
    readonly sgxTcbComponents: readonly number[];
    readonly pceSvn: number;
    /** CPUSVN, 16 bytes (.2.18). */
    readonly cpuSvn: Uint8Array;
  };
  /** PCE-ID, 2 bytes. */
  readonly pceId: Uint8Array;
  /** FMSPC, 6 bytes. */
  readonly fmspc: Uint8Array;
  /** 0 Standard, 1 Scalable, 2 Scalable with integrity. */
  readonly sgxType: number;
  /** PlatformInstanceID, 16 bytes (Platform CA certificates only). */
  readonly platformInstanceId?: Uint8Array;
  readonly configuration?: {
    readonly dynamicPlatform?: boolean;
    readonly cachedKeys?: boolean;
    readonly smtEnabled?: boolean;
  };
}

/**
 * Reads the SGX extension of a PCK certificate.
 * @throws ERR_PCK_EXTENSION_MALFORMED
 */
export function parsePckExtensions(cert: Certificate): PckExtensions {
  const ext = findExtension(cert, OID_SGX.EXTENSIONS);
  if (ext === undefined) fail("no SGX extension (1.2.840.113741.1.13.1)");
  try {
    return read(ext.value);
  } catch (e) {
    if (e instanceof KeywardError && e.code !== "ERR_PCK_EXTENSION_MALFORMED") {
      throw new KeywardError("ERR_PCK_EXTENSION_MALFORMED", `PCK SGX extension: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

function read(value: Uint8Array): PckExtensions {
  const outer = new DerReader(value, "PCK SGX extension");
  const seq = outer.enter(TAG.SEQUENCE, "SGXExtensions");
  outer.end();
  let ppid: Uint8Array | undefined;
  let tcb: PckExtensions["tcb"] | undefined;
  let pceId: Uint8Array | undefined;
  let fmspc: Uint8Array | undefined;
  let sgxType: number | undefined;
  let platformInstanceId: Uint8Array | undefined;
  let configuration: PckExtensions["configuration"] | undefined;
  const seen = new Set<string>();
  while (!seq.done) {
    const pair = seq.enter(TAG.SEQUENCE, "entry");
    const oid = pair.oid("id");
    if (seen.has(oid)) fail(`${oid} appears twice`);
    seen.add(oid);
    switch (oid) {
      case OID_SGX.PPID:
        ppid = sized(pair.octetString("PPID"), 16, "PPID");
        break;
      case OID_SGX.TCB:
        tcb = readTcb(pair.enter(TAG.SEQUENCE, "TCB"));
        break;
      case OID_SGX.PCEID:
        pceId = sized(pair.octetString("PCE-ID"), 2, "PCE-ID");
        break;
      case OID_SGX.FMSPC:
        fmspc = sized(pair.octetString("FMSPC"), 6, "FMSPC");
        break;
      case OID_SGX.SGX_TYPE:
        sgxType = pair.smallInteger("SGX type", TAG.ENUMERATED);
        break;
      case OID_SGX.PLATFORM_INSTANCE_ID:
        platformInstanceId = sized(pair.octetString("PlatformInstanceID"), 16, "PlatformInstanceID");
        break;
      case OID_SGX.CONFIGURATION:
        configuration = readConfiguration(pair.enter(TAG.SEQUENCE, "Configuration"));
        break;
      default:
        pair.any(); // later profile versions may add entries; unknown ones carry no claim we use
    }
    pair.end();
  }
  if (
    ppid === undefined ||
    tcb === undefined ||
    pceId === undefined ||
    fmspc === undefined ||
    sgxType === undefined
  ) {
    return fail("a required entry (PPID, TCB, PCE-ID, FMSPC, SGX type) is missing");
  }
  return {
    ppid,
    tcb,
    pceId,
    fmspc,
    sgxType,
    ...(platformInstanceId === undefined ? {} : { platformInstanceId }),
    ...(configuration === undefined ? {} : { configuration }),
  };
}

// 1.2.840.113741.1.13.1.2 (OID_SGX.TCB), DER content bytes.
const TCB_OID = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x02);

function underTcb(oid: Uint8Array): boolean {
  for (let i = 0; i < TCB_OID.byteLength; i++) if (oid[i] !== TCB_OID[i]) return false;
  return true;
}

function readTcb(r: DerReader): PckExtensions["tcb"] {
  const components: (number | undefined)[] = new Array(16).fill(undefined);
  let pceSvn: number | undefined;
  let cpuSvn: Uint8Array | undefined;
  while (!r.done) {
    const pair = r.open(TAG.SEQUENCE, "TCB entry");
    // Compared as bytes: 1.2.840.113741.1.13.1.2.N is the TCB OID's encoding followed by one byte N.
    const oid = r.oidBytes("id");
    const arc =
      oid.byteLength === TCB_OID.byteLength + 1 && underTcb(oid) ? (oid[TCB_OID.byteLength] ?? 0) : 0;
    if (arc >= 1 && arc <= 16) {
      if (components[arc - 1] !== undefined) fail(`TCB component ${arc} appears twice`);
      components[arc - 1] = r.smallInteger("SGX TCB component SVN");
    } else if (arc === 17) {
      pceSvn = r.smallInteger("PCESVN");
    } else if (arc === 18) {
      cpuSvn = sized(r.octetString("CPUSVN"), 16, "CPUSVN");
    } else {
      fail(`unknown TCB entry ${decodeOid(oid, "PCK SGX extension", "TCB entry")}`);
    }
    r.close(pair, "TCB entry");
  }
  const sgxTcbComponents = components.filter((c): c is number => c !== undefined);
  if (sgxTcbComponents.length !== 16 || pceSvn === undefined || cpuSvn === undefined) {
    fail("TCB needs 16 components, PCESVN and CPUSVN");
  }
  if (sgxTcbComponents.some((c) => c > 255) || pceSvn > 0xffff) fail("TCB value out of range");
  return { sgxTcbComponents, pceSvn, cpuSvn };
}

function readConfiguration(r: DerReader): NonNullable<PckExtensions["configuration"]> {
  const out: { dynamicPlatform?: boolean; cachedKeys?: boolean; smtEnabled?: boolean } = {};
  while (!r.done) {
    const pair = r.enter(TAG.SEQUENCE, "Configuration entry");
    const oid = pair.oid("id");
    const value = pair.boolean(oid);
    pair.end();
    if (oid === `${OID_SGX.CONFIGURATION}.1`) out.dynamicPlatform = value;
    else if (oid === `${OID_SGX.CONFIGURATION}.2`) out.cachedKeys = value;
    else if (oid === `${OID_SGX.CONFIGURATION}.3`) out.smtEnabled = value;
  }
  return out;
}

function sized(bytes: Uint8Array, n: number, field: string): Uint8Array {
  if (bytes.byteLength !== n) fail(`${field} has ${bytes.byteLength} bytes, expected ${n}`);
  return bytes;
}

function fail(message: string): never {
  throw new KeywardError("ERR_PCK_EXTENSION_MALFORMED", `PCK SGX extension: ${message}`);
}
