/**
 * Progress of long operations (collateral fetch, sim init, audit verify, master-key rotation) on
 * stderr, on a terminal only: a line rewritten in place, with a spinner and the elapsed seconds
 * while something is awaited, and erased when done. Nothing at all when stderr is a file or pipe,
 * so that logs and scripts see only results and errors.
 *
 * @module
 */
import { progressAllowed } from "./config.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A progress line. */
export interface Progress {
  /** Shows what is being done now. */
  step(text: string): void;
  /** Erases the line. */
  done(): void;
}

const silent: Progress = { step: () => undefined, done: () => undefined };

/** A progress line for `label` on stderr (a silent one when stderr is not a terminal). */
export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!progressAllowed(stream)) return silent;
  let frame = 0;
  let text = "";
  const started = process.hrtime.bigint();
  const draw = () => {
    const seconds = Number((process.hrtime.bigint() - started) / 1_000_000n) / 1000;
    const spinner = FRAMES[frame++ % FRAMES.length] ?? "";
    stream.write(`\r\x1b[K${spinner} ${label}${text === "" ? "" : `: ${text}`} (${seconds.toFixed(1)} s)`);
  };
  draw();
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    step(t) {
      text = t;
      draw();
    },
    done() {
      clearInterval(timer);
      stream.write("\r\x1b[K");
    },
  };
}

/** Awaits `work` with a progress line for `label`. */
export async function withProgress<T>(label: string, work: Promise<T> | (() => Promise<T>)): Promise<T> {
  const p = progress(label);
  try {
    return await (typeof work === "function" ? work() : work);
  } finally {
    p.done();
  }
}
