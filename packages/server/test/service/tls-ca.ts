/**
 * An ordinary TLS certificate authority for tests, made with the openssl command: a CA and a
 * server certificate for localhost and 127.0.0.1 — what an operator gives listeners whose clients
 * check a CA chain (the KBS listener, Gramine secret provisioning).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The CA's certificate and a server certificate (files and PEM). */
export interface TestTls {
  readonly dir: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Makes a fresh CA and a server certificate in a temporary directory. */
export function makeTestTls(): TestTls {
  const dir = mkdtempSync(join(tmpdir(), "keyward-tls-"));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=Keyward test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  ssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
    "-subj",
    "/CN=localhost",
  );
  writeFileSync(
    f("ext.cnf"),
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  ssl(
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("server.pem"),
    "-days",
    "2",
    "-extfile",
    f("ext.cnf"),
  );
  return {
    dir,
    caPem: readFileSync(f("ca.pem"), "utf8"),
    caFile: f("ca.pem"),
    certFile: f("server.pem"),
    keyFile: f("server.key"),
  };
}
