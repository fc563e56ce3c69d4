/**
 * The small API an enclave app imports: `attest`, `identity`, `seal`, `unseal`. The backend is
 * picked automatically — the simulated launcher's channel, Gramine's /dev/attestation, or Linux
 * configfs-tsm — and can be chosen explicitly.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { KeywardError } from "@keyward/attest/errors";
import type { WorkloadClaims } from "@keyward/attest/evidence";
import type { Attester, Evidence, SealPolicy } from "../attester/attester.ts";
import { CHANNEL_ENV } from "../launcher/channel-protocol.ts";
import { configfsTsmAttester } from "./configfs-tsm-attester.ts";
import { gramineAttester } from "./gramine-attester.ts";
import { sealWith, unsealWith } from "./sealing.ts";
import { simulatedAttester } from "./simulated-attester.ts";

/** Which backend, and where its interfaces are (overridable for tests). */
export interface AttesterOptions {
  readonly backend?: "auto" | "simulated" | "gramine" | "configfs-tsm";
  readonly gramineRoot?: string;
  readonly tsmReportDir?: string;
  /** The environment to look for the launcher's channel in (default: this process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The attester of this process.
 * @throws ERR_ATTESTER_UNAVAILABLE when no backend is present
 */
export function openAttester(options: AttesterOptions = {}): Attester {
  const backend = options.backend ?? "auto";
  const env = options.env ?? process.env;
  const gramineRoot = options.gramineRoot ?? "/dev/attestation";
  const tsm = options.tsmReportDir ?? "/sys/kernel/config/tsm/report";
  const channel = env[CHANNEL_ENV];
  if (backend === "simulated" || (backend === "auto" && channel !== undefined)) {
    const fd = Number((channel ?? "fd:3").replace(/^fd:/, ""));
    return simulatedAttester(fd);
  }
  if (backend === "gramine" || (backend === "auto" && existsSync(`${gramineRoot}/attestation_type`)))
    return gramineAttester(gramineRoot);
  if (backend === "configfs-tsm" || (backend === "auto" && existsSync(tsm))) return configfsTsmAttester(tsm);
  throw new KeywardError(
    "ERR_ATTESTER_UNAVAILABLE",
    "no TEE here: not under the simulated launcher, Gramine or configfs-tsm",
  );
}

let current: Attester | undefined;
const attester = (): Attester => {
  current ??= openAttester();
  return current;
};

/** Evidence whose report data is exactly `reportData` (64 bytes). */
export function attest(reportData: Uint8Array): Promise<Evidence> {
  return attester().attest(reportData);
}

/** The claims the platform asserts about this workload. */
export function identity(): Promise<WorkloadClaims> {
  return attester().identity();
}

/** Seals `data` to this enclave (`mrenclave`) or to its signer and product (`mrsigner`). */
export function seal(
  data: Uint8Array,
  options: { readonly policy: SealPolicy; readonly aad?: Uint8Array },
): Promise<Uint8Array> {
  return sealWith(attester(), data, options);
}

/** Opens a blob sealed by {@link seal}. */
export function unseal(blob: Uint8Array, options: { readonly aad?: Uint8Array } = {}): Promise<Uint8Array> {
  return unsealWith(attester(), blob, options);
}
