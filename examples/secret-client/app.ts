/**
 * An enclave app that gets its secrets from Keyward with @keyward/client: one call attests (its
 * RA-TLS certificate from its own evidence, or the challenge path where the address is the
 * challenge listener), verifies the service's evidence (the simulated platform's root, the
 * service's expected MRENCLAVE) and returns the granted secrets. It prints a redacted
 * confirmation.
 *
 * Arguments: HOST PORT SIM-DIR SERVICE-MRENCLAVE-HEX
 */
import { getSecrets, serverTrust } from "@keyward/client";
import { loadSimPlatform } from "@keyward/platform/sim";

const [host = "127.0.0.1", port = "0", simDir = "", serviceMr = ""] = process.argv.slice(2);
try {
  const platform = loadSimPlatform(simDir);
  const verifyServer = serverTrust({
    policy: { id: "keyward-service", platforms: ["simulated"], mrEnclave: [serviceMr] },
    simulation: { rootPem: platform.rootCertificatePem, collateralJson: platform.collateralJson("sgx") },
  });
  const secrets = await getSecrets({ server: { host, port: Number(port) }, verifyServer });
  // Redacted: names, versions and sizes only — never the values.
  console.log(
    JSON.stringify({
      policy: secrets.policyId,
      path: secrets.path,
      secrets: Object.entries(secrets.values).map(([name, value]) => ({
        name,
        version: secrets.versions[name],
        bytes: value.byteLength,
      })),
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
