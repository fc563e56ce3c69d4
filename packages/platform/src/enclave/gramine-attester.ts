/**
 * Gramine's attestation pseudo-filesystem (`/dev/attestation`, Gramine docs "Attestation and
 * secret provisioning"): `attestation_type` says "dcap" (or "epid"/"none"); writing 64 bytes to
 * `user_report_data` and then reading `quote` gives a DCAP quote over them; `keys/_sgx_mrenclave`
 * and `keys/_sgx_mrsigner` are 16-byte sealing keys (EGETKEY with the enclave's own SVN).
 *
 * @module
 */
import { hkdfSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesEqual, concatBytes } from "@keyward/attest/bytes";
import { parseDcapQuote, sgxClaimsOf } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import type { WorkloadClaims } from "@keyward/attest/evidence";
import type { Attester, Evidence, SealKeyRequest } from "../attester/attester.ts";
import { readFileBounded, readTextBounded } from "../io/read-file.ts";

/** An attester over Gramine's `/dev/attestation` (the root is injectable for tests). */
export function gramineAttester(root = "/dev/attestation"): Attester {
  const file = (name: string) => join(root, name);
  const quoteFor = (reportData: Uint8Array): Uint8Array => {
    const type = readText(file("attestation_type"));
    if (type !== "dcap")
      throw new KeywardError("ERR_ATTESTER_UNAVAILABLE", `Gramine attestation type is "${type}", not "dcap"`);
    try {
      writeFileSync(file("user_report_data"), reportData);
      return readFileBounded(file("quote"), { kind: "evidence", what: "Gramine quote" });
    } catch (cause) {
      throw new KeywardError(
        "ERR_ATTESTER_FAILED",
        "Gramine /dev/attestation: the quote could not be obtained",
        { cause },
      );
    }
  };
  let own: WorkloadClaims | undefined;
  const identity = async (): Promise<WorkloadClaims> => {
    if (own === undefined) {
      const q = parseDcapQuote(quoteFor(new Uint8Array(64)));
      if (q.body.kind !== "sgx")
        throw new KeywardError("ERR_ATTESTER_FAILED", "Gramine returned a non-SGX quote");
      own = sgxClaimsOf(q.body.report);
    }
    return own;
  };
  return {
    backend: "gramine",
    async attest(reportData: Uint8Array): Promise<Evidence> {
      if (reportData.byteLength !== 64)
        throw new KeywardError("ERR_INPUT_INVALID", "report data must be 64 bytes");
      const quote = quoteFor(reportData);
      // A quote over other report data (a stale or concurrent request) must not pass for ours.
      const q = parseDcapQuote(quote);
      if (!bytesEqual(q.body.report.reportData, reportData)) {
        throw new KeywardError("ERR_ATTESTER_FAILED", "Gramine returned a quote over other report data");
      }
      return { kind: "sgx-dcap", quote, platform: "hardware" };
    },
    identity,
    async sealingKey(req: SealKeyRequest): Promise<Uint8Array> {
      const claims = await identity();
      // Gramine derives its keys for the enclave's own SVN only.
      if (claims.tee !== "sgx" || req.isvSvn !== claims.isvSvn) {
        throw new KeywardError(
          "ERR_SEAL_SVN_TOO_HIGH",
          `Gramine seals only for the enclave's own SVN (${claims.tee === "sgx" ? claims.isvSvn : "?"})`,
        );
      }
      let base: Uint8Array;
      try {
        base = readFileBounded(
          file(`keys/${req.policy === "mrenclave" ? "_sgx_mrenclave" : "_sgx_mrsigner"}`),
          { kind: "key", what: "Gramine sealing key" },
        );
      } catch (cause) {
        throw new KeywardError("ERR_ATTESTER_FAILED", "Gramine sealing key could not be read", { cause });
      }
      if (base.byteLength !== 16)
        throw new KeywardError(
          "ERR_ATTESTER_FAILED",
          `Gramine sealing key has ${base.byteLength} bytes, not 16`,
        );
      // Widen the 128-bit EGETKEY key to 256 bits, bound to the key id.
      return new Uint8Array(
        hkdfSync(
          "sha256",
          base,
          "keyward-gramine-seal-v1",
          concatBytes(req.keyId, Uint8Array.of(req.isvSvn >> 8, req.isvSvn & 0xff)),
          32,
        ),
      );
    },
  };
}

function readText(path: string): string {
  try {
    return readTextBounded(path, { kind: "key", what: "Gramine attestation type" }).trim();
  } catch (cause) {
    throw new KeywardError("ERR_ATTESTER_UNAVAILABLE", `${path} cannot be read: not running under Gramine`, {
      cause,
    });
  }
}
