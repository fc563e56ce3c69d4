/**
 * The licensed enclave app. Inside the enclave it:
 *
 * 1. makes its TLS key (P-256) and a self-signed certificate — the key never leaves;
 * 2. binds its HTTPS listener (the application: `GET /hello` answers who it serves);
 * 3. makes an RA-TLS client certificate from its own evidence and calls the licensing server's
 *    RegisterEnclave over mutual TLS (the server verifies the evidence, so it knows the certificate
 *    comes from a genuine licensed enclave, and for which launch), trusting the server's
 *    certificate from KEYWARD_LICENSING_CA;
 * 4. prints `{"ready":{"port":N}}` and serves until it is stopped.
 *
 * Arguments: SERVER-HOST SERVER-PORT LAUNCH-ID USER PRODUCT [LISTEN-HOST]
 * Environment: KEYWARD_LICENSING_CA (PEM, public), KEYWARD_ENCLAVE_PORT (default 0: any free port).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { toPem } from "@keyward/attest/x509";
import { openAttester } from "@keyward/platform/enclave";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { buildCertificate } from "@keyward/platform/x509";
import { Licensing } from "@keyward/proto/keyward/v1";

const [
  serverHost = "127.0.0.1",
  serverPort = "0",
  launchId = "",
  user = "",
  product = "",
  listenHost = "127.0.0.1",
] = process.argv.slice(2);

function fail(e: unknown): never {
  const code = (e as { code?: unknown }).code;
  console.error(
    JSON.stringify({
      error: { code: code ?? "ERR_APP", message: e instanceof Error ? e.message : String(e) },
    }),
  );
  process.exit(1);
}

try {
  // 1. The TLS key is made here, inside; only the certificate leaves.
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const now = Date.now();
  const der = buildCertificate({
    serial: Uint8Array.of(0x01, ...randomBytes(15)),
    subject: [["CN", "keyward licensed app"]],
    issuer: [["CN", "keyward licensed app"]],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 7 * 86_400_000),
    publicKey,
    signingKey: privateKey,
    isCa: false,
    keyUsage: ["digitalSignature"],
  });
  // 2. The application.
  const app = createServer(
    {
      key: privateKey.export({ type: "pkcs8", format: "pem" }),
      cert: toPem(der, "CERTIFICATE"),
      minVersion: "TLSv1.3",
    },
    (req, res) => {
      if (req.method === "GET" && req.url === "/hello") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ app: "licensed-app", user, product, message: `hello ${user}` }));
        return;
      }
      res.writeHead(404).end();
    },
  );
  await new Promise<void>((resolve, reject) => {
    app.once("error", reject);
    app.listen(Number(process.env.KEYWARD_ENCLAVE_PORT ?? "0"), listenHost, () => resolve());
  });
  const port = (app.address() as AddressInfo).port;
  // 3. Register the certificate over mutual RA-TLS.
  const credential = await issueRaTlsCertificate({ attester: openAttester() });
  const ca = process.env.KEYWARD_LICENSING_CA;
  if (ca === undefined || ca === "") throw new Error("KEYWARD_LICENSING_CA is not set");
  const transport = createGrpcTransport({
    baseUrl: `https://${serverHost.includes(":") ? `[${serverHost}]` : serverHost}:${serverPort}`,
    nodeOptions: { ca, key: credential.keyPem, cert: credential.certificatePem },
  });
  await createClient(Licensing, transport).registerEnclave({ launchId, certificate: der, port });
  // 4. Ready.
  console.log(JSON.stringify({ ready: { port } }));
  const stop = () => app.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} catch (e) {
  fail(e);
}
