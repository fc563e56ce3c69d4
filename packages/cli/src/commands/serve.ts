import { asKeywardError, EXIT, type ExitCode, exitCodeOf } from "../output.ts";
import { serviceConfigFrom } from "../service-flags.ts";
import type { serve } from "../specs/misc.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward serve [--config FILE] [--simulation] [--data-dir DIR] [--listen HOST:PORT]
 *   [--database-url postgres://…] [--log-level LEVEL] [...every option of the server's table]`
 * — runs until SIGINT/SIGTERM, logging JSON lines on stdout. The options are the server's option
 * table (packages/server/src/ops/config.ts and each feature's options; docs/operations.md), read
 * from flags, then KEYWARD_* variables, then the configuration file; test/service-flags.test.ts
 * keeps the spec in step with it. A start-up failure (every configuration problem at once, an
 * address in use, an unreadable file) is one JSON line on stderr — `event: "startup.failed"`, its
 * `code`, `problems` and the usual `keyward: CODE: message` as `msg` — and exit 2 for configuration and input, 1 otherwise, 70 for a
 * bug (see `asKeywardError`). Without --simulation it runs in hardware mode.
 */
export async function run({ values }: Parsed<typeof serve>): Promise<ExitCode> {
  const { runService, createLogger } = await import("@keyward/server");
  let running: Awaited<ReturnType<typeof runService>>;
  try {
    const config = await serviceConfigFrom(values);
    running = await runService(config, createLogger(undefined, config.logLevel));
  } catch (e) {
    startupFailed(createLogger, e);
    return exitCodeOf(e);
  }
  // The first signal drains (the server's --shutdown-grace); a second one ends the process at once
  // (the handlers are gone, so the default action applies).
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await running.shutdown();
  return EXIT.ok;
}

// The failure as a log line, so that a log pipeline sees why the service never came up.
function startupFailed(createLogger: typeof import("@keyward/server").createLogger, e: unknown): void {
  const k = asKeywardError(e);
  const cause = k?.cause as { detail?: { problems?: unknown } } | undefined;
  const problems = k?.detail?.problems ?? cause?.detail?.problems;
  const code = k?.code ?? "ERR_INTERNAL";
  const message = k?.message ?? (e instanceof Error ? e.message : String(e));
  // `msg` reads as every command's error line does ("keyward: CODE: message").
  createLogger(process.stderr, "info").fatal(
    { event: "startup.failed", code, ...(Array.isArray(problems) ? { problems } : {}) },
    `keyward: ${code}: ${message}`,
  );
}
