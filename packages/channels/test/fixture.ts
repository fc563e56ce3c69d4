/**
 * Shared by the RA-TLS tests: a simulated platform, RA-TLS credentials for simulated enclaves, and
 * peer verifiers that trust the simulation root and accept given measurements.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createPeerVerifier, type PeerVerifier } from "@keyward/channels/tls";
import { issueRaTlsCertificate, type RaTlsCredential } from "@keyward/platform/ratls";
import {
  initSimPlatform,
  loadSimPlatform,
  type SimPlatform,
  simulatedPlatformAttester,
} from "@keyward/platform/sim";

export const measurement = (v: number): Uint8Array => new Uint8Array(32).fill(v);

/** A simulated platform in `dir` (created when absent). */
export function platformIn(dir: string): SimPlatform {
  try {
    return loadSimPlatform(dir);
  } catch {
    return initSimPlatform(dir, { now: new Date() });
  }
}

export function newPlatform(): SimPlatform {
  return initSimPlatform(join(mkdtempSync(join(tmpdir(), "keyward-ratls-")), "sim"), { now: new Date() });
}

/** An RA-TLS credential of a simulated enclave with MRENCLAVE = `measurement(mr)`. */
export function enclaveCredential(
  platform: SimPlatform,
  mr: number,
  extra: { nonce?: Uint8Array; legacy?: boolean; curve?: "P-256" | "P-384" } = {},
): Promise<RaTlsCredential> {
  return issueRaTlsCertificate({
    attester: simulatedPlatformAttester(platform, {
      mrEnclave: measurement(mr),
      mrSigner: measurement(0x55),
      isvProdId: 1,
      isvSvn: 1,
    }),
    ...(extra.nonce === undefined ? {} : { nonce: extra.nonce }),
    ...(extra.legacy === undefined ? {} : { legacyExtension: extra.legacy }),
    ...(extra.curve === undefined ? {} : { curve: extra.curve }),
  });
}

/** A peer verifier accepting simulated enclaves whose MRENCLAVE is one of `accepted`. */
export function verifierFor(
  platform: SimPlatform,
  accepted: readonly number[],
  counter?: { calls: number },
): PeerVerifier {
  const root = parsePemCertificates(platform.rootCertificatePem)[0];
  if (root === undefined) throw new Error("no root");
  const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  const collateral = parseCollateralJson(platform.collateralJson("sgx"));
  const policy = policyFromObject(
    {
      id: "test",
      platforms: ["simulated"],
      mrEnclave: accepted.map((m) => Buffer.from(measurement(m)).toString("hex")),
    },
    "test",
  );
  return createPeerVerifier({
    verify: (der, at) => {
      if (counter !== undefined) counter.calls++;
      return verifyRaTlsCertificate(der, { verifier, collateral, at, policy });
    },
  });
}
