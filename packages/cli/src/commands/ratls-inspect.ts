import { parseDcapQuote } from "@keyward/attest/dcap";
import { isKeywardError } from "@keyward/attest/errors";
import { checkRaTlsBinding, extractRaTlsEvidence } from "@keyward/attest/ratls";
import { type Certificate, parseCertificate, parsePemCertificates } from "@keyward/attest/x509";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";
import { readBytes } from "../read-input.ts";

/** `keyward ratls inspect CERT [--json]`: which extension, the embedded quote, the binding. */
export const command: Command = {
  summary: "show the evidence an RA-TLS certificate carries and whether it binds the certificate's key",
  async run(args) {
    const { values, positionals } = parseFlags(args, { json: { type: "boolean" } });
    const [path, ...extra] = positionals;
    if (path === undefined || extra.length > 0) usageError("usage: keyward ratls inspect CERT [--json]");
    const cert = readCertificate(path);
    const evidence = extractRaTlsEvidence(cert);
    const q = parseDcapQuote(evidence.quote);
    let binding: { ok: boolean; code?: string } = { ok: true };
    try {
      checkRaTlsBinding(cert, evidence);
    } catch (e) {
      binding = { ok: false, code: isKeywardError(e) ? e.code : "ERR_INTERNAL" };
    }
    const body = q.body.report;
    const out = {
      subject: cert.subject,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      keyType: cert.publicKey.asymmetricKeyType,
      extension: { format: evidence.format, oid: evidence.oid },
      quote: {
        version: q.header.version,
        tee: q.header.teeType === 0 ? "sgx" : "tdx",
        bytes: evidence.quote.byteLength,
        ...("mrEnclave" in body
          ? {
              mrEnclave: body.mrEnclave,
              mrSigner: body.mrSigner,
              isvProdId: body.isvProdId,
              isvSvn: body.isvSvn,
              debug: ((body.attributes[0] ?? 0) & 2) !== 0,
            }
          : { mrTd: body.mrTd }),
        reportData: body.reportData,
      },
      ...(evidence.claims === undefined
        ? {}
        : {
            claims: {
              pubkeyHash: evidence.claims.pubkeyHash,
              nonce: evidence.claims.nonce,
              other: evidence.claims.other,
            },
          }),
      binding,
    };
    if (values.json === true) printJson(out);
    else {
      process.stdout.write(
        `${cert.subject}\n  evidence: ${evidence.format} (${evidence.oid}), ${out.quote.tee.toUpperCase()} quote v${q.header.version}\n` +
          `  binding: ${binding.ok ? "the evidence binds this certificate's key" : `BROKEN (${binding.code})`}\n`,
      );
    }
    return EXIT.ok;
  },
};

/** A certificate from PEM or DER. */
export function readCertificate(path: string): Certificate {
  const bytes = readBytes(path, "certificate");
  const head = new TextDecoder().decode(bytes.subarray(0, 40));
  if (head.includes("-----BEGIN")) {
    const [cert] = parsePemCertificates(new TextDecoder().decode(bytes), 1);
    if (cert !== undefined) return cert;
  }
  return parseCertificate(bytes);
}
