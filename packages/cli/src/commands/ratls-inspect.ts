import { toHex } from "@keyward/attest/bytes";
import { parseDcapQuote } from "@keyward/attest/dcap";
import { isKeywardError } from "@keyward/attest/errors";
import { checkRaTlsBinding, extractRaTlsEvidence } from "@keyward/attest/ratls";
import { readCertificate } from "../inputs.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import type { ratlsInspect } from "../specs/ratls.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward ratls inspect CERT [--json]`: which extension, the embedded quote, the binding. */
export async function run({ positionals, json }: Parsed<typeof ratlsInspect>): Promise<ExitCode> {
  const cert = readCertificate(positionals[0] as string);
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
  if (json) printJson(out);
  else {
    const m = out.quote;
    say(
      `${cert.subject}\n  valid      ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()} (${out.keyType} key)\n` +
        `  evidence   ${evidence.format} (${evidence.oid}), ${m.tee.toUpperCase()} quote v${q.header.version}, ${m.bytes} bytes\n` +
        ("mrEnclave" in body
          ? `  MRENCLAVE  ${toHex(body.mrEnclave)}\n  MRSIGNER   ${toHex(body.mrSigner)}\n  ISVPRODID  ${body.isvProdId}  ISVSVN ${body.isvSvn}  debug ${"debug" in m ? m.debug : false}\n`
          : `  MRTD       ${toHex(body.mrTd)}\n`) +
        `  binding    ${binding.ok ? "the evidence binds this certificate's key" : `BROKEN (${binding.code})`}\n` +
        "  (inspected only: keyward ratls verify checks the quote and its collateral)",
    );
  }
  return EXIT.ok;
}
