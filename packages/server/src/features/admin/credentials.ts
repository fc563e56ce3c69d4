/**
 * The Admin listener's mutual-TLS credentials, made by `keyward admin init`: a private admin CA,
 * a server certificate for the listener, and client certificates for operators. Only certificates
 * issued by this CA can connect to the Admin listener; the CA is unrelated to any attestation root.
 *
 * Layout under `<data dir>/admin/`: ca.pem, ca.key, server.pem, server.key, and
 * `clients/<name>.pem` + `clients/<name>.key`. Keys are created 0600 with O_EXCL.
 *
 * @module
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { readTextBounded } from "@keyward/platform/io";
import { buildCertificate, derOid, derSequence, derTlv } from "@keyward/platform/x509";

export interface AdminServerCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface AdminClientCredentials extends AdminServerCredentials {
  readonly name: string;
}

export interface AdminInitOptions {
  /** Names and addresses the listener is reached by (certificate SANs); localhost is always included. */
  readonly hosts?: readonly string[];
  /** The first operator's name (its certificate's CN). */
  readonly clientName?: string;
  readonly now?: Date;
}

const DAY = 86_400_000;
const CA_NAME = "Keyward admin CA";
const EKU_SERVER = "1.3.6.1.5.5.7.3.1";
const EKU_CLIENT = "1.3.6.1.5.5.7.3.2";

/** Where `keyward admin init` writes under a data directory. */
export const adminDir = (dataDir: string): string => join(dataDir, "admin");

/**
 * Creates the admin CA, the server certificate and one client certificate.
 * @throws ERR_SERVICE_CONFIG when credentials already exist (nothing is overwritten)
 */
export function initAdminCredentials(
  dataDir: string,
  options: AdminInitOptions = {},
): AdminClientCredentials {
  const dir = adminDir(dataDir);
  if (existsSync(join(dir, "ca.key")))
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "admin credentials already exist in the data directory (remove admin/ to start over, or issue a client with `keyward admin add-client`)",
    );
  mkdirSync(join(dir, "clients"), { recursive: true, mode: 0o700 });
  const now = options.now ?? new Date();
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caName = [["CN", CA_NAME]] as const;
  const caDer = buildCertificate({
    serial: serial(),
    subject: caName,
    issuer: caName,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 3650 * DAY),
    publicKey: ca.publicKey,
    signingKey: ca.privateKey,
    isCa: true,
    pathLength: 0,
    keyUsage: ["keyCertSign", "cRLSign"],
  });
  writeSecret(join(dir, "ca.key"), pemKey(ca.privateKey));
  writeFileSync(join(dir, "ca.pem"), pem("CERTIFICATE", caDer), { flag: "wx" });

  const hosts = [...new Set(["localhost", "127.0.0.1", "::1", ...(options.hosts ?? [])])];
  const server = issueLeaf("Keyward admin listener", ca.privateKey, now, [
    subjectAltNames(hosts),
    extendedKeyUsage(EKU_SERVER),
  ]);
  writeSecret(join(dir, "server.key"), server.keyPem);
  writeFileSync(join(dir, "server.pem"), server.certPem, { flag: "wx" });
  return addAdminClient(dataDir, options.clientName ?? "admin", now);
}

/**
 * Issues another operator's client certificate with the admin CA.
 * @throws ERR_SERVICE_CONFIG when the CA is missing or the name is taken or malformed
 */
export function addAdminClient(
  dataDir: string,
  name: string,
  now: Date = new Date(),
): AdminClientCredentials {
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name))
    throw new KeywardError("ERR_SERVICE_CONFIG", "an admin client name is 1-64 of [A-Za-z0-9_.@-]");
  const dir = adminDir(dataDir);
  const caPem = readOrFail(join(dir, "ca.pem"));
  const caKey = readOrFail(join(dir, "ca.key"));
  if (existsSync(join(dir, "clients", `${name}.key`)))
    throw new KeywardError("ERR_SERVICE_CONFIG", `an admin client named ${name} already exists`);
  const { keyPem, certPem } = issueLeaf(name, createPrivateKey(caKey), now, [extendedKeyUsage(EKU_CLIENT)]);
  mkdirSync(join(dir, "clients"), { recursive: true, mode: 0o700 });
  writeSecret(join(dir, "clients", `${name}.key`), keyPem);
  writeFileSync(join(dir, "clients", `${name}.pem`), certPem, { flag: "wx" });
  return { name, caPem, certPem, keyPem };
}

/** The listener's credentials, or undefined when `keyward admin init` has not been run. */
export function loadAdminServerCredentials(dataDir: string): AdminServerCredentials | undefined {
  const dir = adminDir(dataDir);
  if (!existsSync(join(dir, "server.key"))) return undefined;
  return {
    caPem: readOrFail(join(dir, "ca.pem")),
    certPem: readOrFail(join(dir, "server.pem")),
    keyPem: readOrFail(join(dir, "server.key")),
  };
}

/** An operator's client credentials (default `admin`). @throws ERR_SERVICE_CONFIG when absent */
export function loadAdminClientCredentials(dataDir: string, name = "admin"): AdminClientCredentials {
  const dir = adminDir(dataDir);
  return {
    name,
    caPem: readOrFail(join(dir, "ca.pem")),
    certPem: readOrFail(join(dir, "clients", `${name}.pem`)),
    keyPem: readOrFail(join(dir, "clients", `${name}.key`)),
  };
}

function readOrFail(path: string): string {
  try {
    return readTextBounded(path, { kind: "certificate", what: "admin credential" });
  } catch (cause) {
    // A FIFO, a device or an oversized file is an I/O problem of its own (ERR_IO naming the path).
    if (isKeywardError(cause, "ERR_IO") && cause.detail?.reason !== "ENOENT") throw cause;
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "admin credentials are missing: run `keyward admin init` (with the same --data-dir)",
      { cause },
    );
  }
}

// Secret files: created exclusively (O_EXCL) with mode 0600, never readable by others.
function writeSecret(path: string, data: string): void {
  writeFileSync(path, data, { flag: "wx", mode: 0o600 });
}

// A P-256 end-entity certificate issued by the admin CA, valid 825 days (the CA/B ceiling).
function issueLeaf(
  commonName: string,
  caKey: KeyObject,
  now: Date,
  extensions: readonly { oid: string; value: Uint8Array }[],
): { keyPem: string; certPem: string } {
  const leaf = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = buildCertificate({
    serial: serial(),
    subject: [["CN", commonName]],
    issuer: [["CN", CA_NAME]],
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 825 * DAY),
    publicKey: leaf.publicKey,
    signingKey: caKey,
    isCa: false,
    keyUsage: ["digitalSignature"],
    extensions,
  });
  return { keyPem: pemKey(leaf.privateKey), certPem: pem("CERTIFICATE", der) };
}

function serial(): Uint8Array {
  const s = randomBytes(16);
  s[0] = (s[0] as number) & 0x7f; // positive INTEGER
  return new Uint8Array(s);
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

function pemKey(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}

function subjectAltNames(hosts: readonly string[]) {
  const names = hosts.map((h) => {
    const kind = isIP(h);
    if (kind === 0) return derTlv(0x82, new TextEncoder().encode(h)); // dNSName
    return derTlv(0x87, ipBytes(h, kind)); // iPAddress
  });
  return { oid: "2.5.29.17", value: derSequence(...names) };
}

function extendedKeyUsage(oid: string) {
  return { oid: "2.5.29.37", value: derSequence(derOid(oid)) };
}

function ipBytes(ip: string, kind: number): Uint8Array {
  if (kind === 4) return new Uint8Array(ip.split(".").map(Number));
  // Expand "::" and parse 8 groups of 16 bits.
  const [head = "", tail = ""] = ip.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = ip.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}
