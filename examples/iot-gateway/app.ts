/**
 * The IoT gateway enclave app: an ECDSA P-256 key generated and sealed inside the enclave, its
 * public key bound into a quote (the attested key bundle), sensor readings signed inside.
 *
 *   keygen --out DIR [--purpose NAME] [--algorithm ES256|ECDH-ES+A256KW|RSA-OAEP-256] [--evidence keyward|oe]
 *          [--seal mrenclave|mrsigner] [--collateral FILE]
 *   sign   --key DIR --in FILE --out FILE [--format cose|der|raw]
 *   rotate --key DIR --out NEWDIR [--seal mrenclave|mrsigner] [--collateral FILE]
 *   decrypt --key DIR --in FILE.jwe --out FILE     (a JWE to the attested key: keyward signer encrypt)
 *   identity
 *
 * Run it under the simulated launcher (`keyward enclave run --manifest examples/iot-gateway/app.toml
 * -- keygen --out DIR`, or `keyward signer keygen --manifest …`), or under Gramine on hardware.
 * Prints one JSON line; on failure `{ "error": { "code", "message" } }` on stderr and exit 1.
 */
import { runGateway } from "./lib/gateway.ts";

try {
  console.log(JSON.stringify(await runGateway(process.argv.slice(2))));
} catch (e) {
  const code = (e as { code?: string }).code ?? "ERR_APP";
  console.error(JSON.stringify({ error: { code, message: e instanceof Error ? e.message : String(e) } }));
  process.exitCode = 1;
}
