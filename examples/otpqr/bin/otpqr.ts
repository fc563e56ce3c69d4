#!/usr/bin/env node
/**
 * `otpqr` as a command (and as the single executable `scripts/build-sea.ts otpqr` makes): the app
 * itself when it is already in a TEE (Gramine's /dev/attestation, configfs-tsm, or a launcher's
 * channel), otherwise the app under the simulated launcher of the platform in `--data-dir DIR`,
 * measured from its own files (embedded in the executable) exactly as
 * `keyward enclave run --manifest examples/otpqr/app.toml` measures them — so the MRENCLAVE a
 * policy grants is the same either way.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CHANNEL_ENV, launchEnclave, loadManifest } from "@keyward/platform/launcher";
import { openBundledDirectory } from "@keyward/platform/runtime";
import { loadSimPlatform } from "@keyward/platform/sim";
import { HELP } from "../lib/options.ts";

const appUrl = new URL("../", import.meta.url);

function fail(code: string, message: string, status: number): void {
  process.stderr.write(`otpqr: ${code}: ${message}\n`);
  process.exitCode = status;
}

function main(argv: readonly string[]): void {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(HELP);
    return;
  }
  const inTee =
    process.env[CHANNEL_ENV] !== undefined ||
    existsSync("/dev/attestation/attestation_type") ||
    existsSync("/sys/kernel/config/tsm/report");
  if (inTee) {
    void import("../app.ts");
    return;
  }
  const at = argv.indexOf("--data-dir");
  const dataDir = at < 0 ? undefined : argv[at + 1];
  if (dataDir === undefined || dataDir.startsWith("--")) {
    fail(
      "ERR_ATTESTER_UNAVAILABLE",
      "no TEE here: give --data-dir DIR to run under its simulated platform",
      2,
    );
    return;
  }
  const app = openBundledDirectory("otpqr", appUrl);
  let running: ReturnType<typeof launchEnclave>;
  try {
    running = launchEnclave({
      manifest: loadManifest(join(app.path, "app.toml")),
      platform: loadSimPlatform(join(dataDir, "sim")),
      args: argv,
      // The app runs in its manifest's directory: relative paths are this process's.
      env: { ...process.env, PWD: process.cwd() },
    });
  } catch (e) {
    app.close();
    const code = (e as { code?: unknown }).code;
    fail(
      typeof code === "string" && code.startsWith("ERR_") ? code : "ERR_IO",
      e instanceof Error ? e.message : String(e),
      2,
    );
    return;
  }
  const forward = (signal: NodeJS.Signals) => running.child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  void running.exited.then((status) => {
    app.close();
    process.exitCode = Math.min(status, 255);
  });
}

main(process.argv.slice(2));
