import { join } from "node:path";
import { launchEnclave, loadManifest } from "@keyward/platform/launcher";
import { loadSimPlatform } from "@keyward/platform/sim";
import { required } from "../args.ts";
import { dataDir } from "../config.ts";
import { type ExitCode, warn } from "../output.ts";
import { enclaveRun } from "../specs/enclave.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward enclave run --manifest app.toml [--data-dir DIR] [-- ARGS]`: exits with the app's status. */
export async function run({ values, rest }: Parsed<typeof enclaveRun>): Promise<ExitCode> {
  const manifest = loadManifest(required(values.manifest, "manifest", enclaveRun));
  const platform = loadSimPlatform(join(dataDir(values["data-dir"]), "sim"));
  const running = launchEnclave({ manifest, platform, args: rest, env: process.env });
  const forward = (signal: NodeJS.Signals) => running.child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const status = await running.exited;
  process.off("SIGINT", forward);
  process.off("SIGTERM", forward);
  if (status !== 0) warn(`keyward: the enclave app exited with status ${status}`);
  return Math.min(status, 255) as ExitCode;
}
