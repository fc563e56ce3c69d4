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
import { mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesEqual } from "@keyward/attest/bytes";
import { parseDcapQuote, tdxClaimsOf } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import type { WorkloadClaims } from "@keyward/attest/evidence";
import type { Attester, Evidence } from "../attester/attester.ts";
import { readFileBounded } from "../io/read-file.ts";

/** The file operations configfs-tsm is used through (injectable: tests emulate the kernel's side). */
export interface TsmFs {
  mkdir(path: string): void;
  rmdir(path: string): void;
  read(path: string): Uint8Array;
  write(path: string, data: Uint8Array): void;
}

const nodeFs: TsmFs = {
  mkdir: (p) => mkdirSync(p),
  rmdir: (p) => rmdirSync(p),
  read: (p) => readFileBounded(p, { kind: "evidence", what: "configfs-tsm attribute" }),
  write: (p, d) => writeFileSync(p, d),
};

/** An attester over configfs-tsm (the report directory and file operations are injectable for tests). */
export function configfsTsmAttester(
  reportDir = "/sys/kernel/config/tsm/report",
  fs: TsmFs = nodeFs,
): Attester {
  const text = (p: string) => new TextDecoder().decode(fs.read(p)).trim();
  const report = (reportData: Uint8Array): { provider: string; blob: Uint8Array } => {
    const entry = join(reportDir, `keyward-${randomBytes(8).toString("hex")}`);
    try {
      fs.mkdir(entry);
    } catch (cause) {
      throw new KeywardError(
        "ERR_ATTESTER_UNAVAILABLE",
        `${reportDir}: cannot create a report entry (no configfs-tsm?)`,
        { cause },
      );
    }
    try {
      const before = Number(text(join(entry, "generation")));
      fs.write(join(entry, "inblob"), reportData);
      const blob = fs.read(join(entry, "outblob"));
      const provider = text(join(entry, "provider"));
      const after = Number(text(join(entry, "generation")));
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
        fs.rmdir(entry);
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
