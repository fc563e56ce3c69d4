/**
 * An enclave app that gets its secrets from Keyward: it makes an RA-TLS client certificate from its
 * own evidence, verifies the service's evidence (simulated platform root, the service's expected
 * MRENCLAVE), calls SecretProvisioningService.GetSecrets and prints a redacted confirmation.
 *
 * Arguments: HOST PORT SIM-DIR SERVICE-MRENCLAVE-HEX
 */
import { createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { openAttester } from "@keyward/platform/enclave";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { loadSimPlatform } from "@keyward/platform/sim";
import { SecretProvisioningService } from "@keyward/proto/keyward/v1";

const [host = "127.0.0.1", port = "0", simDir = "", serviceMr = ""] = process.argv.slice(2);
try {
  const platform = loadSimPlatform(simDir);
  const root = parsePemCertificates(platform.rootCertificatePem)[0];
  if (root === undefined) throw new Error("no simulation root");
  const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  const collateral = parseCollateralJson(platform.collateralJson("sgx"));
  const policy = policyFromObject(
    { id: "keyward-service", platforms: ["simulated"], mrEnclave: [serviceMr] },
    "app",
  );
  const credential = await issueRaTlsCertificate({ attester: openAttester() });
  const { transport } = await createRaTlsGrpcTransport({
    host,
    port: Number(port),
    credential,
    peerVerifier: createPeerVerifier({
      verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy }),
    }),
  });
  const response = await createClient(SecretProvisioningService, transport).getSecrets({});
  // Redacted: names, versions and sizes only — never the values.
  console.log(
    JSON.stringify({
      policy: response.policyId,
      secrets: response.secrets.map((s) => ({ name: s.name, version: s.version, bytes: s.value.byteLength })),
    }),
  );
  process.exit(0);
} catch (e) {
  const code = (e as { code?: unknown }).code;
  console.error(
    JSON.stringify({
      error: { code: code ?? "ERR_APP", message: e instanceof Error ? e.message : String(e) },
    }),
  );
  process.exit(1);
}
