/**
 * An in-process attester over the simulated platform, for services and tests that play an
 * enclave without a launcher: the caller states the identity the "CPU" reports.
 *
 * @module
 */
import { createHash, hkdfSync } from "node:crypto";
import { concatBytes } from "@keyward/attest/bytes";
import { parseDcapQuote, sgxClaimsOf } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import type { Attester, SealKeyRequest } from "../attester/attester.ts";
import type { SimPlatform } from "./platform.ts";

/** The identity a simulated enclave reports. */
export interface SimulatedEnclaveIdentity {
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId?: number;
  readonly isvSvn?: number;
  readonly debug?: boolean;
}

/** An attester that quotes `identity` on the simulated platform. */
export function simulatedPlatformAttester(
  platform: SimPlatform,
  identity: SimulatedEnclaveIdentity,
): Attester {
  const report = (reportData: Uint8Array) =>
    platform.quoteSgx({
      mrEnclave: identity.mrEnclave,
      mrSigner: identity.mrSigner,
      isvProdId: identity.isvProdId ?? 0,
      isvSvn: identity.isvSvn ?? 0,
      attributes: Uint8Array.of(
        identity.debug === true ? 0x07 : 0x05,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0x03,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
      ),
      reportData,
    });
  return {
    backend: "simulated",
    async attest(reportData) {
      if (reportData.byteLength !== 64)
        throw new KeywardError("ERR_INPUT_INVALID", "report data must be 64 bytes");
      return { kind: "sgx-dcap", quote: report(reportData), platform: "simulated" };
    },
    async identity() {
      const q = parseDcapQuote(report(new Uint8Array(64)));
      if (q.body.kind !== "sgx") throw new KeywardError("ERR_INTERNAL", "simulated SGX quote expected");
      return sgxClaimsOf(q.body.report);
    },
    async sealingKey(req: SealKeyRequest) {
      if (req.isvSvn > (identity.isvSvn ?? 0))
        throw new KeywardError("ERR_SEAL_SVN_TOO_HIGH", "sealing key above the enclave's SVN");
      const id = req.policy === "mrenclave" ? identity.mrEnclave : identity.mrSigner;
      const info = concatBytes(
        new TextEncoder().encode(req.policy),
        id,
        req.keyId,
        Uint8Array.of(req.isvSvn >> 8, req.isvSvn & 0xff),
      );
      return new Uint8Array(
        hkdfSync(
          "sha256",
          platform.sealingSecret(),
          "keyward-simulated-in-process-v1",
          createHash("sha256").update(info).digest(),
          32,
        ),
      );
    },
  };
}
