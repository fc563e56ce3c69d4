/**
 * The licensing listener's certificate: `tls.crt` and `tls.key` from the secrets directory (a
 * Kubernetes TLS Secret mounted as files), or — for development — a self-signed P-256 certificate
 * made once in DATA-DIR/licensing/ (the key written 0600 with O_EXCL, so two processes never make
 * two), naming localhost, 127.0.0.1, ::1 and this host. Clients trust it with `--ca` (the file is
 * its own CA); nothing else about it is special.
 *
 * @module
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { toPem } from "@keyward/attest/x509";
import type { TlsCredential } from "@keyward/channels/tls";
import { readTextBounded } from "@keyward/platform/io";
import { buildCertificate, derSequence, derTlv } from "@keyward/platform/x509";

const PEM = { kind: "certificate", what: "licensing TLS file" } as const;
const OID_SUBJECT_ALT_NAME = "2.5.29.17";

/** GeneralNames (RFC 5280 §4.2.1.6): dNSName [2] IA5String, iPAddress [7] OCTET STRING. */
function subjectAltNames(dns: readonly string[], ips: readonly Uint8Array[]): Uint8Array {
  const names = [
    ...dns.map((d) => derTlv(0x82, new TextEncoder().encode(d))),
    ...ips.map((ip) => derTlv(0x87, ip)),
  ];
  return derSequence(...names);
}

function tryRead(path: string): string | undefined {
  try {
    return readTextBounded(path, PEM);
  } catch {
    return undefined;
  }
}

/**
 * The listener's credential: from `secretsDir` when given (both files required), else the
 * development certificate in `dataDir/licensing/`, made on first use.
 * @throws ERR_SERVICE_CONFIG when the secrets directory lacks tls.crt or tls.key
 */
export function licensingCredential(dataDir: string, secretsDir: string | undefined): TlsCredential {
  if (secretsDir !== undefined) {
    const certificatePem = tryRead(join(secretsDir, "tls.crt"));
    const keyPem = tryRead(join(secretsDir, "tls.key"));
    if (certificatePem === undefined || keyPem === undefined)
      throw new KeywardError(
        "ERR_SERVICE_CONFIG",
        "--licensing-secrets-dir must hold tls.crt and tls.key (PEM)",
      );
    return { certificatePem, keyPem };
  }
  const dir = join(dataDir, "licensing");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, "tls.key");
  const certPath = join(dir, "tls.crt");
  const existing = { keyPem: tryRead(keyPath), certificatePem: tryRead(certPath) };
  if (existing.keyPem !== undefined && existing.certificatePem !== undefined)
    return { keyPem: existing.keyPem, certificatePem: existing.certificatePem };
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const now = Date.now();
  const der = buildCertificate({
    serial: Uint8Array.of(0x01, ...randomBytes(15)),
    subject: [["CN", "keyward licensing (development)"]],
    issuer: [["CN", "keyward licensing (development)"]],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 825 * 86_400_000),
    publicKey,
    signingKey: privateKey,
    isCa: true,
    keyUsage: ["digitalSignature", "keyCertSign"],
    extensions: [
      {
        oid: OID_SUBJECT_ALT_NAME,
        value: subjectAltNames(
          ["localhost", hostname()],
          [Uint8Array.of(127, 0, 0, 1), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)],
        ),
      },
    ],
  });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const certificatePem = toPem(der, "CERTIFICATE");
  try {
    writeFileSync(keyPath, keyPem, { mode: 0o600, flag: "wx" });
    writeFileSync(certPath, certificatePem, { mode: 0o644, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    // Another process made them first: use its pair.
    const key = tryRead(keyPath);
    const cert = tryRead(certPath);
    if (key === undefined || cert === undefined)
      throw new KeywardError("ERR_SERVICE_CONFIG", "the development licensing certificate is incomplete");
    return { keyPem: key, certificatePem: cert };
  }
  return { keyPem, certificatePem };
}
