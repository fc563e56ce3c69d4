/**
 * The contract server's TLS credentials: a throwaway CA and a serving certificate for 127.0.0.1,
 * ::1 and localhost, made fresh for each server (the kubeconfig carries the CA, as a cluster's
 * does).
 *
 * @module
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { buildCertificate, derOid, derSequence, derTlv } from "@keyward/platform/x509";

/** PEM credentials for the HTTPS listener and its clients. */
export interface ServingCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const DAY = 86_400_000;

/** A CA and a serving certificate for the loopback addresses, valid one day either side of now. */
export function servingCredentials(now: Date): ServingCredentials {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caName = [["CN", "keyward-testkit kube-apiserver CA"]] as const;
  const caDer = buildCertificate({
    serial: serial(),
    subject: caName,
    issuer: caName,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + DAY),
    publicKey: ca.publicKey,
    signingKey: ca.privateKey,
    isCa: true,
    pathLength: 0,
    keyUsage: ["keyCertSign", "cRLSign"],
  });
  const leaf = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const san = derSequence(
    derTlv(0x82, new TextEncoder().encode("localhost")), // dNSName
    derTlv(0x87, new Uint8Array([127, 0, 0, 1])), // iPAddress
    derTlv(0x87, new Uint8Array([...new Array(15).fill(0), 1])),
  );
  const certDer = buildCertificate({
    serial: serial(),
    subject: [["CN", "kube-apiserver"]],
    issuer: caName,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + DAY),
    publicKey: leaf.publicKey,
    signingKey: ca.privateKey,
    isCa: false,
    keyUsage: ["digitalSignature"],
    extensions: [
      { oid: "2.5.29.17", value: san },
      { oid: "2.5.29.37", value: derSequence(derOid("1.3.6.1.5.5.7.3.1")) }, // serverAuth
    ],
  });
  return { caPem: pem(caDer), certPem: pem(certDer), keyPem: pemKey(leaf.privateKey) };
}

function serial(): Uint8Array {
  const s = randomBytes(16);
  s[0] = (s[0] as number) & 0x7f;
  return new Uint8Array(s);
}

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`;
}

function pemKey(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}
