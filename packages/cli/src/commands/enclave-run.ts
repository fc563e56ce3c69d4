import { join } from "node:path";
import { launchEnclave, loadManifest } from "@keyward/platform/launcher";
import { loadSimPlatform } from "@keyward/platform/sim";
import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import type { ExitCode } from "../output.ts";

/** `keyward enclave run --manifest app.toml [--data-dir DIR] [-- ARGS]` */
export const command: Command = {
  summary: "measure and run an app in a simulated enclave (the launcher plays the CPU and the QE)",
  async run(args) {
    const dash = args.indexOf("--");
    const own = dash < 0 ? args : args.slice(0, dash);
    const appArgs = dash < 0 ? [] : args.slice(dash + 1);
    const { values, positionals } = parseFlags(own, {
      manifest: { type: "string" },
      "data-dir": { type: "string" },
    });
    if (values.manifest === undefined || positionals.length > 0)
      usageError("usage: keyward enclave run --manifest app.toml [-- ARGS]");
    const manifest = loadManifest(values.manifest);
    const platform = loadSimPlatform(join(dataDir(values["data-dir"]), "sim"));
    const running = launchEnclave({ manifest, platform, args: appArgs, env: process.env });
    const forward = (signal: NodeJS.Signals) => running.child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    const status = await running.exited;
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
    return Math.min(status, 255) as ExitCode;
  },
};
