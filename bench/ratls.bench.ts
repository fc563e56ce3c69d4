/**
 * TLS handshakes per second on loopback: plain TLS with the same key type (P-256, self-signed),
 * RA-TLS with a cold verification per handshake (a fresh verifier and cache each time), and RA-TLS
 * with the verification cache warm. One-way: the client verifies the server's evidence.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer } from "node:tls";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { connectRaTls, createPeerVerifier, type PeerVerifier } from "@keyward/channels/tls";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { initSimPlatform, simulatedPlatformAttester } from "@keyward/platform/sim";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "3");
const dir = mkdtempSync(join(tmpdir(), "keyward-ratls-bench-"));
const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
const credential = await issueRaTlsCertificate({
  attester: simulatedPlatformAttester(platform, {
    mrEnclave: new Uint8Array(32).fill(1),
    mrSigner: new Uint8Array(32).fill(2),
  }),
});
const root = parsePemCertificates(platform.rootCertificatePem)[0];
if (root === undefined) throw new Error("no root");
const collateral = parseCollateralJson(platform.collateralJson("sgx"));
const policy = policyFromObject({ id: "bench", platforms: ["simulated"] }, "bench");
const newVerifier = (): PeerVerifier => {
  const dcap = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  return createPeerVerifier({
    verify: (der, at) => verifyRaTlsCertificate(der, { verifier: dcap, collateral, at, policy }),
  });
};

const server = createServer({ key: credential.keyPem, cert: credential.certificatePem }, (s) => s.end());
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = (server.address() as AddressInfo).port;

async function rate(handshake: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 20; i++) await handshake();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < SECONDS * 1000) {
    await handshake();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const plain = await rate(
  () =>
    new Promise<void>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
        s.destroy();
        resolve();
      });
      s.once("error", reject);
    }),
);
const cold = await rate(async () => {
  const { socket } = await connectRaTls({ host: "127.0.0.1", port, peerVerifier: newVerifier() });
  socket.destroy();
});
const warmVerifier = newVerifier();
const warm = await rate(async () => {
  const { socket } = await connectRaTls({ host: "127.0.0.1", port, peerVerifier: warmVerifier });
  socket.destroy();
});
server.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `TLS handshakes per second on loopback (P-256 server key, TLS 1.3), ${SECONDS}s per cell, Node ${process.version}`,
);
console.log(`  plain TLS                        ${plain.toFixed(0).padStart(6)}/s`);
console.log(
  `  RA-TLS, cold verification        ${cold.toFixed(0).padStart(6)}/s  (${((100 * cold) / plain).toFixed(0)}% of plain)`,
);
console.log(
  `  RA-TLS, verification cache warm  ${warm.toFixed(0).padStart(6)}/s  (${((100 * warm) / plain).toFixed(0)}% of plain)`,
);
