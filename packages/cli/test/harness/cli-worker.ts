/**
 * A child process that runs `keyward` commands in-process, one request at a time, for the CLI's
 * table-driven and property-based tests: the parent sends { id, args, env }, the worker answers
 * { id, status, stdout, stderr, maxRssKiB } (stdout and stderr captured from the command's writes).
 * Loading the packages once makes hundreds of runs affordable on a shared machine; the parent
 * kills the worker when a run exceeds its time bound, so a hang is a failure, not a stuck suite.
 */
import { main } from "../../src/main.ts";

interface Request {
  readonly id: number;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string | null>>;
  /** Emit SIGTERM to the process every 250 ms until the command returns (for `serve`). */
  readonly stopWithSigterm?: boolean;
}

process.on("message", (raw) => {
  void handle(raw as Request);
});

async function handle(req: Request): Promise<void> {
  const out: string[] = [];
  const err: string[] = [];
  const write = (sink: string[]) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      sink.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  const saved = { out: process.stdout.write, err: process.stderr.write };
  const envSaved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.env ?? {})) {
    envSaved[k] = process.env[k];
    if (v === null) delete process.env[k];
    else process.env[k] = v;
  }
  process.stdout.write = write(out);
  process.stderr.write = write(err);
  const stopper = req.stopWithSigterm === true ? setInterval(() => process.emit("SIGTERM"), 250) : undefined;
  let status: number | string;
  try {
    status = await main(req.args);
  } catch (e) {
    status = `threw: ${e instanceof Error ? e.stack : String(e)}`;
  } finally {
    if (stopper !== undefined) clearInterval(stopper);
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    for (const [k, v] of Object.entries(envSaved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  process.send?.({
    id: req.id,
    status,
    stdout: out.join(""),
    stderr: err.join(""),
    maxRssKiB: process.resourceUsage().maxRSS,
  });
}
