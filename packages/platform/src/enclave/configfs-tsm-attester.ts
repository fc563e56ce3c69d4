/**
 * Linux configfs-tsm (Documentation/ABI/testing/configfs-tsm): `mkdir` a report entry under
 * `/sys/kernel/config/tsm/report/`, write 64 bytes to `inblob`, read `outblob` (a TDX quote or
 * SEV-SNP report) and `provider` ("tdx_guest", "sev_guest"), and compare `generation` before and
 * after: it counts writes to the entry, so a concurrent writer shows up as a jump and the outblob
 * cannot be trusted to be ours.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesEqual } from "@keyward/attest/bytes";
import { parseDcapQuote, tdxClaimsOf } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import type { WorkloadClaims } from "@keyward/attest/evidence";
import type { Attester, Evidence } from "../attester/attester.ts";

/** An attester over configfs-tsm (the report directory is injectable for tests). */
export function configfsTsmAttester(reportDir = "/sys/kernel/config/tsm/report"): Attester {
  const report = (reportData: Uint8Array): { provider: string; blob: Uint8Array } => {
    const entry = join(reportDir, `keyward-${randomBytes(8).toString("hex")}`);
    try {
      mkdirSync(entry);
    } catch (cause) {
      throw new KeywardError(
        "ERR_ATTESTER_UNAVAILABLE",
        `${reportDir}: cannot create a report entry (no configfs-tsm?)`,
        { cause },
      );
    }
    try {
      const before = Number(readFileSync(join(entry, "generation"), "utf8").trim());
      writeFileSync(join(entry, "inblob"), reportData);
      const blob = new Uint8Array(readFileSync(join(entry, "outblob")));
      const provider = readFileSync(join(entry, "provider"), "utf8").trim();
      const after = Number(readFileSync(join(entry, "generation"), "utf8").trim());
      if (!Number.isInteger(before) || after !== before + 1) {
        throw new KeywardError(
          "ERR_ATTESTER_FAILED",
          `configfs-tsm: generation went ${before} → ${after}: another writer used the entry`,
        );
      }
      return { provider, blob };
    } catch (e) {
      if (e instanceof KeywardError) throw e;
      throw new KeywardError("ERR_ATTESTER_FAILED", "configfs-tsm: the report could not be obtained", {
        cause: e,
      });
    } finally {
      try {
        rmdirSync(entry);
      } catch {
        // configfs removes the attribute files with the directory; a test tree may keep them.
      }
    }
  };
  return {
    backend: "configfs-tsm",
    async attest(reportData: Uint8Array): Promise<Evidence> {
      if (reportData.byteLength !== 64)
        throw new KeywardError("ERR_INPUT_INVALID", "report data must be 64 bytes");
      const { provider, blob } = report(reportData);
      if (provider === "sev_guest") return { kind: "sev-snp-report", quote: blob, platform: "hardware" };
      if (provider !== "tdx_guest")
        throw new KeywardError("ERR_ATTESTER_FAILED", `configfs-tsm provider "${provider}" is not supported`);
      const q = parseDcapQuote(blob);
      if (!bytesEqual(q.body.report.reportData, reportData))
        throw new KeywardError("ERR_ATTESTER_FAILED", "configfs-tsm returned a quote over other report data");
      return { kind: "tdx-dcap", quote: blob, platform: "hardware" };
    },
    async identity(): Promise<WorkloadClaims> {
      const { provider, blob } = report(new Uint8Array(64));
      if (provider !== "tdx_guest")
        throw new KeywardError(
          "ERR_ATTESTER_FAILED",
          `identity is available for TDX only, not "${provider}"`,
        );
      const q = parseDcapQuote(blob);
      if (q.body.kind === "sgx")
        throw new KeywardError("ERR_ATTESTER_FAILED", "configfs-tsm returned an SGX quote");
      return tdxClaimsOf(q.body.report);
    },
  };
}
