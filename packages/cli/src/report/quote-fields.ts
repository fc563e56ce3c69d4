/**
 * A DCAP quote as named fields, in the order of Intel's layout tables ("SGX/TDX DCAP Quote Library"
 * reference, sgx_quote_3.h/4.h/5.h): the model both `keyward quote inspect` (text) and the HTML
 * report render. Decoding only: nothing here is verified.
 *
 * @module
 */
import { toHex } from "@keyward/attest/bytes";
import {
  type DcapQuote,
  INTEL_SGX_ROOT_CA_SHA256,
  type SgxReportBody,
  type TdReportBody,
} from "@keyward/attest/dcap";
import { type Certificate, parsePckExtensions, parsePemCertificates } from "@keyward/attest/x509";

/** One named field. */
export interface Field {
  readonly name: string;
  readonly value: string;
  /** What the field is, or what its value means. */
  readonly note?: string;
}

/** A titled group of fields. */
export interface Section {
  readonly title: string;
  readonly fields: readonly Field[];
}

const hex = (b: Uint8Array) => toHex(b);
const yesNo = (b: boolean) => (b ? "yes" : "no");

/** The sections of a parsed quote: header, body, QE report, signature data, PCK certificate. */
export function quoteSections(quote: DcapQuote): Section[] {
  const h = quote.header;
  const sig = quote.signatureData;
  const sections: Section[] = [
    {
      title: "Header",
      fields: [
        { name: "Version", value: String(h.version) },
        {
          name: "Attestation key type",
          value: String(h.attestationKeyType),
          note: h.attestationKeyType === 2 ? "ECDSA-256 with P-256" : "unknown",
        },
        { name: "TEE type", value: `0x${h.teeType.toString(16).padStart(8, "0")}`, note: teeName(quote) },
        ...(h.version === 3
          ? [
              { name: "QE SVN", value: String(h.qeSvn) },
              { name: "PCE SVN", value: String(h.pceSvn) },
            ]
          : []),
        { name: "QE vendor ID", value: hex(h.qeVendorId), note: vendor(h.qeVendorId) },
        { name: "User data", value: hex(h.userData) },
        ...(quote.bodyType === undefined
          ? []
          : [{ name: "Body type", value: String(quote.bodyType), note: bodyTypeName(quote.bodyType) }]),
      ],
    },
    quote.body.kind === "sgx"
      ? { title: "Enclave report body (sgx_report_body_t)", fields: sgxFields(quote.body.report) }
      : {
          title: `TD report body (TD ${quote.body.kind === "td15" ? "1.5" : "1.0"})`,
          fields: tdFields(quote.body.report),
        },
    {
      title: "QE report (the Quoting Enclave's own report, signed by the PCK key)",
      fields: sgxFields(sig.qeReport),
    },
    {
      title: "Signature data",
      fields: [
        { name: "Quote signature", value: hex(sig.signature), note: "ECDSA r‖s over header ‖ body" },
        { name: "Attestation key", value: hex(sig.attestationKey), note: "P-256 public key X‖Y" },
        { name: "QE report signature", value: hex(sig.qeReportSignature), note: "by the PCK key" },
        { name: "QE authentication data", value: `${sig.qeAuthData.byteLength} bytes` },
        {
          name: "Certification data type",
          value: String(sig.certificationDataType),
          note:
            sig.certificationDataType === 5
              ? "PCK certificate chain"
              : "QE report certification data (wrapping 5)",
        },
        { name: "Signed length", value: `${quote.signed.byteLength} bytes`, note: "header ‖ body" },
        { name: "Padding", value: `${quote.padding} zero bytes after the signature data` },
      ],
    },
  ];
  const chain = certificateChain(quote);
  const leaf = chain[0];
  if (leaf !== undefined) sections.push({ title: "PCK certificate", fields: pckFields(leaf) });
  return sections;
}

/** The PCK certificate chain the quote carries (leaf first). */
export function certificateChain(quote: DcapQuote): Certificate[] {
  return parsePemCertificates(quote.signatureData.pckChainPem, 4);
}

/** The fields of one certificate, for the chain view. */
export function certificateFields(c: Certificate): Field[] {
  const pinned = hex(c.fingerprint256) === INTEL_SGX_ROOT_CA_SHA256;
  return [
    ...(pinned ? [{ name: "Trust", value: "Intel SGX Root CA, pinned by its SHA-256 fingerprint" }] : []),
    { name: "Subject", value: c.subject },
    { name: "Issuer", value: c.issuer },
    { name: "Serial", value: c.serialNumber },
    { name: "Valid", value: `${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}` },
    { name: "SHA-256", value: hex(c.fingerprint256) },
    { name: "CA", value: yesNo(c.isCa) },
  ];
}

function pckFields(leaf: Certificate): Field[] {
  const pck = parsePckExtensions(leaf);
  const fields: Field[] = [
    { name: "Subject", value: leaf.subject },
    { name: "Issuer", value: leaf.issuer },
    { name: "Serial", value: leaf.serialNumber },
    { name: "Not after", value: leaf.notAfter.toISOString() },
    {
      name: "FMSPC",
      value: hex(pck.fmspc),
      note: "family-model-stepping-platform-customSKU: selects the TCB Info",
    },
    { name: "PCE-ID", value: hex(pck.pceId) },
    { name: "PPID", value: hex(pck.ppid), note: "platform provisioning ID (encrypted)" },
    { name: "CPUSVN", value: hex(pck.tcb.cpuSvn) },
    {
      name: "SGX TCB components",
      value: pck.tcb.sgxTcbComponents.join(" "),
      note: "compared with each TCB level",
    },
    { name: "PCESVN", value: String(pck.tcb.pceSvn) },
    {
      name: "SGX type",
      value: String(pck.sgxType),
      note: ["Standard", "Scalable", "Scalable with integrity"][pck.sgxType] ?? "unknown",
    },
  ];
  if (pck.platformInstanceId !== undefined)
    fields.push({ name: "Platform instance ID", value: hex(pck.platformInstanceId) });
  const c = pck.configuration;
  if (c !== undefined) {
    if (c.dynamicPlatform !== undefined)
      fields.push({ name: "Dynamic platform", value: yesNo(c.dynamicPlatform) });
    if (c.cachedKeys !== undefined) fields.push({ name: "Cached keys", value: yesNo(c.cachedKeys) });
    if (c.smtEnabled !== undefined) fields.push({ name: "SMT enabled", value: yesNo(c.smtEnabled) });
  }
  return fields;
}

function sgxFields(r: SgxReportBody): Field[] {
  const flags = r.attributes[0] ?? 0;
  return [
    { name: "MRENCLAVE", value: hex(r.mrEnclave), note: "measurement of the enclave's code and data" },
    { name: "MRSIGNER", value: hex(r.mrSigner), note: "SHA-256 of the enclave signer's key" },
    { name: "ISVPRODID", value: String(r.isvProdId), note: "ISV product ID" },
    { name: "ISVSVN", value: String(r.isvSvn), note: "ISV security version number" },
    {
      name: "ATTRIBUTES",
      value: hex(r.attributes),
      note: `debug ${yesNo((flags & 2) !== 0)}, 64-bit ${yesNo((flags & 4) !== 0)}`,
    },
    { name: "CPUSVN", value: hex(r.cpuSvn) },
    { name: "MISCSELECT", value: `0x${r.miscSelect.toString(16).padStart(8, "0")}` },
    { name: "CONFIGID", value: hex(r.configId) },
    { name: "CONFIGSVN", value: String(r.configSvn) },
    { name: "ISVEXTPRODID", value: hex(r.isvExtProdId) },
    { name: "ISVFAMILYID", value: hex(r.isvFamilyId) },
    {
      name: "REPORTDATA",
      value: hex(r.reportData),
      note: "64 bytes chosen by the enclave (binds a nonce or key)",
    },
  ];
}

function tdFields(r: TdReportBody): Field[] {
  const debug = ((r.tdAttributes[0] ?? 0) & 1) !== 0;
  return [
    { name: "TEE_TCB_SVN", value: hex(r.teeTcbSvn), note: "TDX module and platform SVNs" },
    { name: "MRSEAM", value: hex(r.mrSeam), note: "measurement of the TDX module" },
    { name: "MRSIGNERSEAM", value: hex(r.mrSignerSeam) },
    { name: "SEAMATTRIBUTES", value: hex(r.seamAttributes) },
    { name: "TDATTRIBUTES", value: hex(r.tdAttributes), note: `debug ${yesNo(debug)}` },
    { name: "XFAM", value: hex(r.xfam) },
    { name: "MRTD", value: hex(r.mrTd), note: "measurement of the TD's initial contents" },
    { name: "MRCONFIGID", value: hex(r.mrConfigId) },
    { name: "MROWNER", value: hex(r.mrOwner) },
    { name: "MROWNERCONFIG", value: hex(r.mrOwnerConfig) },
    ...r.rtmr.map((m, i) => ({ name: `RTMR${i}`, value: hex(m), note: "runtime measurement register" })),
    {
      name: "REPORTDATA",
      value: hex(r.reportData),
      note: "64 bytes chosen by the TD (binds a nonce or key)",
    },
    ...(r.teeTcbSvn2 === undefined ? [] : [{ name: "TEE_TCB_SVN2", value: hex(r.teeTcbSvn2) }]),
    ...(r.mrServiceTd === undefined ? [] : [{ name: "MRSERVICETD", value: hex(r.mrServiceTd) }]),
  ];
}

function teeName(quote: DcapQuote): string {
  return quote.body.kind === "sgx" ? "SGX" : "TDX";
}

function vendor(id: Uint8Array): string {
  return hex(id) === "939a7233f79c4ca9940a0db3957f0607" ? "Intel" : "not Intel's";
}

function bodyTypeName(t: number): string {
  return ["", "SGX report", "TD report 1.0", "TD report 1.5"][t] ?? "unknown";
}

/** Renders sections as aligned text. */
export function sectionsText(sections: readonly Section[]): string {
  const width = Math.max(...sections.flatMap((s) => s.fields.map((f) => f.name.length))) + 2;
  const out: string[] = [];
  for (const s of sections) {
    out.push(s.title);
    for (const f of s.fields)
      out.push(`  ${f.name.padEnd(width)}${f.value}${f.note === undefined ? "" : `  (${f.note})`}`);
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
